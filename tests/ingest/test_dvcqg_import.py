"""`dvc-pulse import --format dvcqg FILE`: portal payloads by file, with the import's report and resume."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import nats
import orjson
import pytest
from click.testing import Result
from nats.js import JetStreamContext

from services.ingest.adapters.checkpoint import CheckpointStore
from services.ingest.adapters.dvcqg_store import DossierStore
from services.ingest.adapters.dvcqg_tables import MappingFile
from services.ingest.adapters.publisher import JetStreamPublisher
from services.ingest.domain.records import Format
from services.ingest.domain.time_rules import TimeRules
from services.ingest.service_layer.dvcqg_sync import PortalLines
from services.ingest.service_layer.importing import ImportAborted, Importer
from services.runtime.nats.embedded import EmbeddedNats
from tests.ingest.conftest import stream_count
from tests.ingest.dvcqg_records import MAPPING_FILE, PORTAL_SOURCE, life, snapshot_record, snapshots, step, steps
from tests.ingest.test_import import _FailsOnSecondBatch, cli, runner


async def _import(nats_server: EmbeddedNats, var_dir: Path, *args: str) -> Result:
    env = {"DVC_VAR_DIR": str(var_dir), "COLUMNS": "200", "DVC_INGEST_DVCQG_MAPPING_FILE": MAPPING_FILE}
    command = ["import", "--format", "dvcqg", *args, "--nats-url", nats_server.url]
    return await asyncio.to_thread(runner.invoke, cli, command, env=env)


def _lines(*documents: Any) -> bytes:
    return b"".join((item if isinstance(item, bytes) else orjson.dumps(item)) + b"\n" for item in documents)


async def test_portal_file_imports_every_snapshot_and_reports_refused_records_when_some_cannot_be_mapped(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    code = f"H04-{uuid.uuid4().hex[:10]}"
    first, second, third, fourth, fifth = life(code)
    path = tmp_path / "sync.jsonl"
    path.write_bytes(
        _lines(
            snapshots(first, second),
            third,  # a bare record is a DongBoHoSoMC snapshot
            b'{"service": "DongBoHoSoMC", "data": [',
            steps(step(code)),
            snapshots(fourth, snapshot_record(f"{code}-x", DonViXuLy="UBND xã Khác")),
            snapshots(fifth),
        )
    )
    before = await stream_count(jetstream)

    result = await _import(nats_server, tmp_path / "var", str(path), "--batch-size", "2")

    assert result.exit_code == 3, result.output
    assert await stream_count(jetstream) == before + 7
    assert f"{path}: 7 accepted, 12 duplicate (already in DVC_EVENTS), 2 rejected line(s)" in result.output
    assert "line 3: (line): the line is not valid JSON" in result.output
    assert f"line 5: data[1] ({code}-x) error_code 4: DonViXuLy" in result.output

    path.write_bytes(path.read_bytes() + _lines(snapshots(fifth, first)))
    again = await _import(nats_server, tmp_path / "var", str(path))

    assert "Resumed after line 6" in again.output
    assert f"{path}: 0 accepted, 6 duplicate" in again.output
    assert await stream_count(jetstream) == before + 7


async def test_every_event_of_a_line_is_stored_after_a_resume_when_the_import_stopped_just_after_that_line(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    code = f"H04-{uuid.uuid4().hex[:10]}"
    path = tmp_path / "wide.jsonl"
    path.write_bytes(
        _lines(
            *(
                snapshots(record)
                for record in (life(code)[4], snapshot_record(f"{code}-2"), snapshot_record(f"{code}-3"))
            )
        )
    )
    checkpoints = CheckpointStore(tmp_path / "checkpoints")
    lines = PortalLines(
        DossierStore(tmp_path / "dvcqg.sqlite"), MappingFile(Path(MAPPING_FILE)), PORTAL_SOURCE, False, TimeRules()
    )
    client = await nats.connect(nats_server.url)
    before = await stream_count(jetstream)
    try:
        failing = Importer(_FailsOnSecondBatch(client), checkpoints, 2, publish_attempts=1, portal_lines=lines)
        with pytest.raises(ImportAborted, match="resume after line 1"):
            await failing.run(path, Format.DVCQG)
        resumed = await Importer(JetStreamPublisher(lambda: client, 5), checkpoints, 2, portal_lines=lines).run(
            path, Format.DVCQG
        )
    finally:
        await client.close()

    assert resumed.resumed_from_line == 1  # the 6 events of line 1 went in one batch: no checkpoint inside it
    assert resumed.accepted == 2
    assert await stream_count(jetstream) == before + 8

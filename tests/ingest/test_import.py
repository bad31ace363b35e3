from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nats
import orjson
import pytest
import typer
from click.testing import Result
from nats.aio.client import Client
from nats.js import JetStreamContext
from typer.testing import CliRunner

from services.contracts.events import CloudEvent
from services.ingest.adapters.checkpoint import CheckpointStore
from services.ingest.adapters.publisher import JetStreamPublisher
from services.ingest.domain.publishing import Ack, Unavailable
from services.ingest.domain.records import Format
from services.ingest.entrypoints.cli import TOP_LEVEL_COMMANDS
from services.ingest.service_layer.importing import ImportAborted, Importer
from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.ingest.conftest import stream_count

cli = typer.Typer()
cli.command("import")(TOP_LEVEL_COMMANDS["import"])
cli.command("unused")(lambda: None)
runner = CliRunner()


async def _import(nats_server: EmbeddedNats, var_dir: Path, *args: str) -> Result:
    """`dvc-pulse import ...` as the console script runs it (its own event loop, in a thread)."""
    env = {"DVC_VAR_DIR": str(var_dir), "COLUMNS": "200"}
    return await asyncio.to_thread(runner.invoke, cli, ["import", *args, "--nats-url", nats_server.url], env=env)


def _ndjson(events: Sequence[dict[str, Any] | bytes]) -> bytes:
    return b"".join((event if isinstance(event, bytes) else orjson.dumps(event)) + b"\n" for event in events)


async def test_ndjson_import_stores_valid_lines_and_reports_bad_ones_when_the_file_has_errors(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    submitted = dossier_event("dossier.submitted")
    lines = [
        submitted,
        dossier_event("dossier.accepted"),
        b'{"specversion": "1.0", "id": ',
        b"   ",
        dossier_event("dossier.paid", fee_amount="năm mươi nghìn"),
        submitted,
        dossier_event("dossier.returned"),
    ]
    path = tmp_path / "history.ndjson"
    path.write_bytes(_ndjson(lines))
    before = await stream_count(jetstream)

    result = await _import(nats_server, tmp_path / "var", str(path))

    assert result.exit_code == 3, result.output
    assert await stream_count(jetstream) == before + 3
    assert f"{path}: 3 accepted, 1 duplicate (already in DVC_EVENTS), 2 rejected line(s)" in result.output
    assert "line 3: (line): the line is not valid JSON" in result.output
    assert "line 5: data.fee_amount: Input should be a valid integer" in result.output


async def test_rerun_imports_only_the_new_lines_when_the_file_grew_after_a_complete_import(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    path = tmp_path / "growing.ndjson"
    path.write_bytes(_ndjson([dossier_event("dossier.submitted") for _ in range(10)]))
    before = await stream_count(jetstream)
    first = await _import(nats_server, tmp_path / "var", str(path), "--batch-size", "4")
    with path.open("ab") as file:
        file.write(_ndjson([dossier_event("dossier.accepted") for _ in range(5)]))

    second = await _import(nats_server, tmp_path / "var", str(path), "--batch-size", "4")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "Resumed after line 10" in second.output
    assert await stream_count(jetstream) == before + 15
    assert f"{path}: 5 accepted, 0 duplicate" in second.output


class _FailsOnSecondBatch:
    """The real publisher, except that JetStream 'goes away' for the second batch."""

    def __init__(self, client: Client) -> None:
        self.real = JetStreamPublisher(lambda: client, timeout=5)
        self.calls = 0

    async def publish(self, events: Sequence[CloudEvent]) -> list[Ack]:
        self.calls += 1
        if self.calls == 2:
            raise Unavailable("not connected to NATS")
        return await self.real.publish(events)


async def test_interrupted_import_resumes_after_the_last_acknowledged_batch_when_rerun(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    path = tmp_path / "interrupted.ndjson"
    path.write_bytes(_ndjson([dossier_event("dossier.processed") for _ in range(10)]))
    store = CheckpointStore(tmp_path / "checkpoints")
    client = await nats.connect(nats_server.url)
    before = await stream_count(jetstream)
    try:
        with pytest.raises(ImportAborted, match="resume after line 4"):
            await Importer(_FailsOnSecondBatch(client), store, batch_size=4, publish_attempts=1).run(
                path, Format.NDJSON
            )
        checkpoint = store.load(path)
        resumed = await Importer(JetStreamPublisher(lambda: client, 5), store, batch_size=4).run(path, Format.NDJSON)
    finally:
        await client.close()

    assert checkpoint is not None
    assert (checkpoint.line, checkpoint.accepted) == (4, 4)
    assert resumed.resumed_from_line == 4
    assert (resumed.accepted, resumed.duplicates, resumed.rejected) == (6, 0, 0)
    assert await stream_count(jetstream) == before + 10


async def test_import_starts_over_and_reports_duplicates_when_the_file_changed_since_its_checkpoint(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    events = [dossier_event("dossier.submitted") for _ in range(3)]
    path = tmp_path / "edited.ndjson"
    path.write_bytes(_ndjson(events))
    store = CheckpointStore(tmp_path / "checkpoints")
    client = await nats.connect(nats_server.url)
    try:
        publisher = JetStreamPublisher(lambda: client, 5)
        await Importer(publisher, store).run(path, Format.NDJSON)
        path.write_bytes(_ndjson([dossier_event("dossier.withdrawn"), *events]))
        report = await Importer(publisher, store).run(path, Format.NDJSON)
    finally:
        await client.close()

    assert report.file_changed
    assert (report.resumed_from_line, report.accepted, report.duplicates) == (0, 1, 3)


CSV_TEXT = """\ufeffid,source,type,time,dossier_code,procedure_code,agency,channel,applicant.kind,applicant.name,\
applicant.phone,applicant.sms_consent,fee_amount,paid_online
csv-1,urn:dvc:lam-thao:one-stop,dossier.submitted,2026-03-02T08:15:00+07:00,H-CSV-1,1.001193,UBND-LAMTHAO,online,\
citizen,"Trần Văn Bình, thôn Đông",0987654321,true,,
csv-2,urn:dvc:lam-thao:one-stop,dossier.paid,2026-03-02T09:00:00+07:00,H-CSV-1,1.001193,UBND-LAMTHAO,,,,,,50000,yes

csv-3,urn:dvc:lam-thao:one-stop,dossier.submitted,2026-03-02T09:30:00+07:00,H-CSV-2,1.001193,UBND-LAMTHAO,fax,\
citizen,Lê Thị Hoa,,false,,
csv-4,urn:dvc:lam-thao:one-stop,vn.gov.dvc.dossier.paid,2026-03-02T10:00:00+07:00,H-CSV-3,1.001193,UBND-LAMTHAO,,,,,,\
12000,no,extra-cell
"""


async def test_csv_import_maps_columns_to_events_and_reports_bad_rows_when_rows_mix_types(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    before = await stream_count(jetstream)

    result = await _import(nats_server, tmp_path / "var", str(path))
    rerun = await _import(nats_server, tmp_path / "var", str(path))

    assert result.exit_code == 3, result.output
    assert await stream_count(jetstream) == before + 2
    assert "line 5: data.channel: Input should be 'direct', 'online' or 'postal'" in result.output
    assert "line 6: (row): 15 cells for 14 columns" in result.output
    submitted = orjson.loads((await jetstream.get_msg("DVC_EVENTS", before + 1)).data or b"")
    paid = orjson.loads((await jetstream.get_msg("DVC_EVENTS", before + 2)).data or b"")
    assert submitted["subject"] == "H-CSV-1"
    assert submitted["type"] == "vn.gov.dvc.dossier.submitted"
    assert submitted["data"]["applicant"] == {
        "kind": "citizen",
        "name": "Trần Văn Bình, thôn Đông",
        "phone": "0987654321",
        "sms_consent": True,
    }
    assert (paid["data"]["fee_amount"], paid["data"]["paid_online"]) == (50000, True)
    assert rerun.exit_code == 0, rerun.output
    assert "Resumed after line 6" in rerun.output
    assert f"{path}: 0 accepted, 0 duplicate (already in DVC_EVENTS), 0 rejected line(s)" in rerun.output

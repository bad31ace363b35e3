"""The file import and the portal sync with in-memory fakes of their ports (event log, checkpoints, dossier
memos, mapping tables): no NATS, no files but the imported one, no SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from services.ingest.domain.dvcqg_tables import MappingTables
from services.ingest.domain.keys import KeySpec
from services.ingest.domain.records import Format
from services.ingest.service_layer.dvcqg_sync import PortalSync
from services.ingest.service_layer.handlers import Ingest
from services.ingest.service_layer.importing import ImportAborted, Importer
from services.runtime.api_keys import hash_key
from tests.factories import dossier_event
from tests.ingest.dvcqg_records import CODE, MAPPING_FILE, PORTAL_SOURCE, snapshot_record, snapshots
from tests.ingest.fakes import (
    CountingMetrics,
    FailingAfter,
    FixedKeys,
    FixedMapping,
    InMemoryCheckpoints,
    InMemoryDossierStates,
    InMemoryEventLog,
)

PORTAL_KEY = KeySpec(name="dvcqg", sha256=hash_key("dvcik_portal-unit"), sources=(PORTAL_SOURCE,))
AFTER_THE_LIFE = datetime(2026, 3, 6, tzinfo=UTC)
CSV_HEADER = "id,source,type,time,dossier_code,procedure_code,agency,fee_amount,paid_online\n"


def _ndjson_file(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "events.ndjson"
    lines = [orjson.dumps(dossier_event("dossier.accepted", f"HS-{number}")) for number in range(count)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _csv_row(number: int) -> str:
    moment = "2026-03-02T09:00:00+07:00"
    return f"csv-{number},urn:dvc:lam-thao:one-stop,dossier.paid,{moment},H-{number},1.001193,UBND-LAMTHAO,50000,yes\n"


async def test_import_resumes_after_the_last_acknowledged_batch_when_the_event_log_went_away(tmp_path: Path) -> None:
    path, log, checkpoints = _ndjson_file(tmp_path, 6), InMemoryEventLog(), InMemoryCheckpoints()

    with pytest.raises(ImportAborted):
        await Importer(FailingAfter(log, 1), checkpoints, batch_size=2, publish_attempts=1).run(path, Format.NDJSON)
    stopped_at = checkpoints.load(path)
    report = await Importer(log, checkpoints, batch_size=2).run(path, Format.NDJSON)

    assert stopped_at is not None
    assert (stopped_at.line, stopped_at.accepted) == (2, 2)
    assert (report.resumed_from_line, report.accepted, report.duplicates, report.complete) == (2, 4, 0, True)
    assert [event.subject for event in log.stored] == [f"HS-{number}" for number in range(6)]
    final = checkpoints.load(path)
    assert final is not None
    assert (final.line, final.accepted, final.offset) == (6, 6, path.stat().st_size)


async def test_import_starts_over_and_counts_duplicates_when_the_file_changed_since_its_checkpoint(
    tmp_path: Path,
) -> None:
    path, log, checkpoints = _ndjson_file(tmp_path, 3), InMemoryEventLog(), InMemoryCheckpoints()
    await Importer(log, checkpoints).run(path, Format.NDJSON)
    path.write_bytes(b"\n" + path.read_bytes())

    report = await Importer(log, checkpoints).run(path, Format.NDJSON)

    assert report.file_changed
    assert (report.resumed_from_line, report.accepted, report.duplicates) == (0, 0, 3)
    assert len(log.stored) == 3


async def test_resumed_csv_import_maps_rows_with_the_header_of_the_file_start_when_a_checkpoint_is_inside(
    tmp_path: Path,
) -> None:
    path = tmp_path / "export.csv"
    path.write_text("\ufeff" + CSV_HEADER + "".join(_csv_row(number) for number in range(4)), encoding="utf-8")
    log, checkpoints = InMemoryEventLog(), InMemoryCheckpoints()

    with pytest.raises(ImportAborted):
        await Importer(FailingAfter(log, 1), checkpoints, batch_size=2, publish_attempts=1).run(path, Format.CSV)
    report = await Importer(log, checkpoints, batch_size=2).run(path, Format.CSV)

    assert (report.resumed_from_line, report.accepted, report.rejected) == (3, 2, 0)
    assert [event.subject for event in log.stored] == ["H-0", "H-1", "H-2", "H-3"]


def _portal_sync(log: InMemoryEventLog, states: InMemoryDossierStates, metrics: CountingMetrics) -> PortalSync:
    ingest = Ingest(keys=FixedKeys([PORTAL_KEY]), publisher=log, metrics=metrics, max_events=100, retry_after_seconds=7)
    mapping = FixedMapping(MappingTables.model_validate_json(Path(MAPPING_FILE).read_bytes()))
    return PortalSync(ingest, states, mapping, 100, PORTAL_SOURCE, clock=lambda: AFTER_THE_LIFE)


async def test_portal_snapshot_is_remembered_and_its_resend_derives_only_duplicates_when_sent_twice() -> None:
    log, states, metrics = InMemoryEventLog(), InMemoryDossierStates(), CountingMetrics()
    sync = _portal_sync(log, states, metrics)
    body = orjson.dumps(snapshots(snapshot_record()))

    first = await sync.receive(PORTAL_KEY, body)
    second = await sync.receive(PORTAL_KEY, body)

    [kept] = first["result"]
    [resent] = second["result"]
    assert (kept["MaHoSo"], kept["error_code"], resent["error_code"]) == (CODE, 0, 0)
    assert kept["added"] == len(log.stored) > 0
    assert (resent["added"], resent["duplicates"]) == (0, kept["added"])
    assert states.memos[(PORTAL_SOURCE, CODE)].procedure_code == "1.001193"
    assert metrics.portal_results["kept"] == 2


async def test_portal_record_keeps_the_unmapped_procedure_code_when_the_tables_lack_it() -> None:
    log, states, metrics = InMemoryEventLog(), InMemoryDossierStates(), CountingMetrics()

    answer = await _portal_sync(log, states, metrics).receive(
        PORTAL_KEY, orjson.dumps(snapshots(snapshot_record(MaTTHC="9.999999")))
    )

    assert answer["result"][0]["error_code"] == 0
    [(source, unmapped)] = states.unmapped
    assert (source, unmapped.procedure_code, unmapped.name, unmapped.dossier_code) == (
        PORTAL_SOURCE,
        "9.999999",
        "Đăng ký khai sinh",
        CODE,
    )

"""Portal records -> CloudEvents: the pure mapping (services.ingest.domain.dvcqg_events) and the use case's
record handling with the SQLite memo (services.ingest.service_layer.dvcqg_sync.map_records)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from services.ingest.adapters.dvcqg_store import DossierStore
from services.ingest.adapters.dvcqg_tables import read_tables
from services.ingest.domain.dvcqg import ResultCode, read_payload
from services.ingest.domain.dvcqg_events import DATED_EXTENSION, Context, map_snapshot, map_step
from services.ingest.domain.time_rules import TimeRules
from services.ingest.service_layer.dvcqg_sync import map_records
from tests.ingest.dvcqg_records import (
    CODE,
    MAPPING_FILE,
    PORTAL_SOURCE,
    life,
    snapshot_record,
    snapshots,
    step,
)

RECEIVED = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
TABLES = read_tables(Path(MAPPING_FILE))


def context(*, consent: bool = False, received: datetime = RECEIVED) -> Context:
    return Context(PORTAL_SOURCE, TABLES, consent, received)


def kinds(events: Any) -> list[str]:
    return [event["type"].removeprefix("vn.gov.dvc.dossier.") for event in events]


def test_a_returned_dossier_maps_to_its_whole_history_when_every_field_is_a_string() -> None:
    outcome = map_snapshot(life()[4], None, context())

    assert (outcome.code, outcome.message) == (ResultCode.OK, "6 event(s)")
    assert kinds(outcome.events) == [
        "accepted",
        "supplement_requested",
        "supplement_received",
        "rescheduled",
        "processed",
        "returned",
    ]
    accepted = outcome.events[0]
    assert accepted["id"] == f"dvcqg:{CODE}:accepted:20260302081500"
    assert accepted["time"] == "2026-03-02T08:15:00+07:00"
    assert accepted["data"]["due_at"] == "2026-03-05T17:00:00+07:00"  # the first promise, not NgayHenTra
    assert accepted["data"]["channel"] == "online"
    assert accepted["data"]["receiving_agency"] == "TTPVHCC-LAMTHAO"
    assert accepted["data"]["applicant"] == {
        "kind": "citizen",
        "name": "Nguyễn Thị Hồng Nhung",
        "phone": None,
        "sms_consent": False,
    }
    assert outcome.events[3]["data"]["new_due_at"] == "2026-03-06T17:00:00+07:00"
    assert outcome.events[5]["data"]["delivery"] == "electronic"
    assert all(DATED_EXTENSION not in event for event in outcome.events)


def test_every_later_snapshot_repeats_the_ids_of_the_earlier_ones_when_it_repeats_their_history() -> None:
    memo = None
    seen: list[set[str]] = []
    for record in life():
        outcome = map_snapshot(record, memo, context())
        memo = outcome.memo
        seen.append({event["id"] for event in outcome.events})
    assert all(earlier <= later for earlier, later in itertools.pairwise(seen))
    again = map_snapshot(life()[4], memo, context(received=datetime(2026, 3, 20, tzinfo=UTC)))
    assert {event["id"] for event in again.events} == seen[4]


def test_an_earlier_status_is_an_anomaly_and_adds_nothing_when_it_arrives_after_a_later_one() -> None:
    returned = map_snapshot(life()[4], None, context())
    late = map_snapshot(life()[1], returned.memo, context())

    assert (late.code, late.events) == (ResultCode.OK, ())
    assert late.memo is not None
    assert returned.memo is not None
    assert (late.memo.anomalies, late.memo.status) == (1, returned.memo.status)
    assert "recorded as an anomaly" in late.message


def test_an_undated_status_is_dated_by_the_receive_time_and_flagged_when_the_record_has_no_date_for_it() -> None:
    fee = [{"MaPhiLePhi": "1", "SoTien": "50000"}]
    record = snapshot_record(TrangThaiHoSo="6", DanhSachLePhi=fee)
    first = map_snapshot(record, None, context())
    resent = map_snapshot(record, first.memo, context(received=datetime(2026, 3, 12, tzinfo=UTC)))

    asked = first.events[-1]
    assert kinds([asked]) == ["payment_requested"]
    assert (asked[DATED_EXTENSION], asked["time"]) == ("received", RECEIVED.isoformat())
    assert asked["data"]["fee_amount"] == 50000
    assert resent.events[-1] == asked
    paid = map_snapshot(snapshot_record(TrangThaiHoSo="4"), first.memo, context()).events[-1]
    assert (kinds([paid]), paid[DATED_EXTENSION]) == (["paid"], "received")


def test_an_undated_status_takes_the_steps_time_when_a_step_reported_it_first() -> None:
    stepped = map_step(step(TrangThai="6", ThoiDiemXuLy="20260303160000"), None, context())
    outcome = map_snapshot(snapshot_record(TrangThaiHoSo="6"), stepped.memo, context())

    asked = outcome.events[-1]
    assert (asked[DATED_EXTENSION], asked["time"]) == ("step", "2026-03-03T16:00:00+07:00")
    assert stepped.code is ResultCode.UNKNOWN_DOSSIER  # kept to date the status, no event without a snapshot


def test_a_step_becomes_a_transfer_to_a_pseudonymous_officer_when_the_dossier_is_known() -> None:
    known = map_snapshot(snapshot_record(), None, context()).memo
    outcome = map_step(step(), known, context())

    [transfer] = outcome.events
    assert transfer["data"]["to_agency"] == "PHONG-KT"
    assert transfer["data"]["to_officer"].startswith("CB-")
    assert "Trần" not in str(transfer)


def test_missing_arrays_and_empty_strings_map_when_the_system_leaves_them_out() -> None:
    record = snapshot_record(NgayHenTra="20260305170000", KenhThucHien="", HinhThuc="1", ChuHoSo="")
    for name in ("TaiLieuNop", "DanhSachLePhi", "DonViTiepNhan"):
        record.pop(name)
    [accepted] = map_snapshot(record, None, context()).events

    assert accepted["data"]["channel"] == "online"  # from HinhThuc
    assert accepted["data"]["digitized"] is False
    assert accepted["data"]["receiving_agency"] == "UBND-LAMTHAO"
    assert accepted["data"]["applicant"]["name"] == "Không rõ"


def test_the_phone_travels_with_consent_only_when_the_key_says_the_source_collected_it() -> None:
    without = map_snapshot(snapshot_record(), None, context()).events[0]["data"]["applicant"]
    with_consent = map_snapshot(snapshot_record(), None, context(consent=True)).events[0]["data"]["applicant"]

    assert (without["phone"], without["sms_consent"]) == (None, False)
    assert (with_consent["phone"], with_consent["sms_consent"]) == ("0912345678", True)


def test_the_status_decides_the_ending_when_the_dossier_was_not_accepted_withdrawn_or_stopped() -> None:
    refused = map_snapshot(snapshot_record(TrangThaiHoSo="3", NgayKetThucXuLy="20260302090000"), None, context())
    withdrawn = map_snapshot(snapshot_record(TrangThaiHoSo="7", GhiChu="Không còn nhu cầu"), None, context())

    assert kinds(refused.events) == ["rejected"]
    assert refused.events[0]["time"] == "2026-03-02T09:00:00+07:00"
    assert kinds(withdrawn.events) == ["accepted", "withdrawn"]
    assert withdrawn.events[1]["data"]["reason"] == "Không còn nhu cầu"
    assert withdrawn.events[1][DATED_EXTENSION] == "received"


def test_a_record_gets_its_own_code_when_it_cannot_be_mapped() -> None:
    cases = {
        ResultCode.INVALID_RECORD: snapshot_record(NgayTiepNhan="02/03/2026"),
        ResultCode.UNKNOWN_AGENCY: snapshot_record(DonViXuLy="UBND xã Khác"),
    }
    for code, record in cases.items():
        outcome = map_snapshot(record, None, context())
        assert (outcome.code, outcome.events) == (code, ()), outcome.message
    assert "NgayTiepNhan" in map_snapshot(cases[ResultCode.INVALID_RECORD], None, context()).message


def test_other_records_are_kept_when_one_breaks_the_time_rules_or_is_not_an_object(tmp_path: Path) -> None:
    store = DossierStore(tmp_path / "dvcqg.sqlite")
    payload = read_payload(
        snapshots(
            snapshot_record("HS-A"),
            snapshot_record("HS-B", NgayHenTra="20260301170000"),  # promised before it was accepted
            "not a record",  # type: ignore[arg-type]
            snapshot_record("HS-C", MaTTHC="9.999999"),
        ),
        max_records=10,
    )
    window = TimeRules().window(datetime.now(UTC))
    mapped = map_records(payload, store, context(), window)

    assert [item.outcome.code for item in mapped] == [0, 2, 1, 0]
    assert "due_at" in mapped[1].outcome.message
    assert set(store.load(PORTAL_SOURCE, ["HS-A", "HS-B", "HS-C"])) == {"HS-A", "HS-C"}
    [unmapped] = store.unmapped()
    assert (unmapped.procedure_code, unmapped.name, unmapped.dossiers) == ("9.999999", "Đăng ký khai sinh", 1)


def test_a_memo_survives_the_store_when_it_is_saved_and_read_back(tmp_path: Path) -> None:
    store = DossierStore(tmp_path / "dvcqg.sqlite")
    memo = map_snapshot(snapshot_record(TrangThaiHoSo="6"), None, context()).memo
    assert memo is not None
    store.save(PORTAL_SOURCE, {CODE: memo}, [], RECEIVED)

    assert store.load(PORTAL_SOURCE, [CODE]) == {CODE: memo}
    assert store.load("urn:dvc:other:dvcqg", [CODE]) == {}


def test_the_guides_example_maps_to_six_events_when_taken_from_the_guide() -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "integration-dvcqg.md").read_text(encoding="utf-8")
    body = re.findall(r"<<'EOF'\n(.*?)\nEOF", guide, flags=re.DOTALL)[0]
    payload = read_payload(orjson.loads(body), max_records=10)

    outcome = map_snapshot(payload.records[0], None, context())

    assert (outcome.code, outcome.message) == (ResultCode.OK, "6 event(s)")


def test_a_fee_of_thousands_of_digits_is_ignored_when_the_system_sends_one() -> None:
    record = snapshot_record(TrangThaiHoSo="6", DanhSachLePhi=[{"SoTien": "9" * 5000}, {"MucLePhi": "20.000"}])

    asked = map_snapshot(record, None, context()).events[-1]

    assert asked["data"]["fee_amount"] == 20000


def test_a_step_outside_the_time_rules_is_refused_and_not_remembered_when_its_time_is_implausible() -> None:
    window = TimeRules().window(datetime.now(UTC))
    bounded = Context(PORTAL_SOURCE, TABLES, False, RECEIVED, window)

    outcome = map_step(step(ThoiDiemXuLy="00010101000000", TrangThai="6"), None, bounded)

    assert (outcome.code, outcome.memo) == (ResultCode.REFUSED_BY_RULES, None)


def test_payment_is_not_dated_before_its_request_when_the_only_processing_step_came_earlier() -> None:
    earlier_step = map_step(step(TrangThai="4", ThoiDiemXuLy="20260302100000"), None, context()).memo
    asked = map_snapshot(snapshot_record(TrangThaiHoSo="6"), earlier_step, context())
    later = context(received=datetime(2026, 3, 11, tzinfo=UTC))
    paid = map_snapshot(snapshot_record(TrangThaiHoSo="4"), asked.memo, later).events[-1]

    assert (kinds([paid]), paid[DATED_EXTENSION]) == (["paid"], "received")
    assert paid["time"] > asked.events[-1]["time"]

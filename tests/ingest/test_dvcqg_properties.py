"""Any record the one-stop systems could send is answered with a code, never an exception (the route is fuzzed
too: a crash here would be a 500 there)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest.adapters.dvcqg_store import DossierStore
from services.ingest.adapters.dvcqg_tables import read_tables
from services.ingest.domain.dvcqg import Payload
from services.ingest.domain.dvcqg_events import Context
from services.ingest.domain.time_rules import TimeRules
from services.ingest.service_layer.dvcqg_sync import answer, map_records
from tests.ingest.dvcqg_records import MAPPING_FILE, PORTAL_SOURCE, snapshot_record, step

TABLES = read_tables(Path(MAPPING_FILE))
DATES = st.builds(
    lambda moment: moment.strftime("%Y%m%d%H%M%S"),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    DATES,
    st.sampled_from(["", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "02"]),
)
ITEM = st.dictionaries(
    st.sampled_from(["NgayBoSung", "NgayTiepNhanBoSung", "NgayHenTraTruoc", "NgayHenTraMoi", "SoTien", "MucLePhi"]),
    SCALARS,
)
VALUES = st.one_of(
    SCALARS, st.lists(st.one_of(ITEM, SCALARS), max_size=3), st.dictionaries(st.text(max_size=5), SCALARS)
)
FIELDS = sorted({*snapshot_record(), *step(), "DanhSachHoSoBoSung", "DanhSachGiayToKetQua", "KenhThucHien"})


@st.composite
def records(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(SCALARS)
    changes = draw(st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6))
    removed = draw(st.sets(st.sampled_from(FIELDS), max_size=4))
    record = {name: value for name, value in {**base, **changes}.items() if name not in removed}
    record["MaHoSo"] = draw(st.sampled_from(["HS-1", "HS-2", record.get("MaHoSo", "")]))
    return record


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    snapshots=st.lists(records(snapshot_record()), max_size=5),
    steps=st.lists(records(step()), max_size=3),
    consent=st.booleans(),
)
def test_every_record_gets_a_code_when_its_fields_are_anything(
    snapshots: list[Any], steps: list[Any], consent: bool
) -> None:
    now = datetime.now(UTC)
    window = TimeRules().window(now)
    context = Context(PORTAL_SOURCE, TABLES, consent, now.replace(microsecond=0), window)
    with tempfile.TemporaryDirectory() as directory:
        store = DossierStore(Path(directory) / "dvcqg.sqlite")
        for service, data in (("DongBoHoSoMC", snapshots), ("CapNhatTienDoHoSoMC", steps)):
            records = tuple(item if isinstance(item, dict) else {"(record)": item} for item in data)
            mapped = map_records(Payload(service, records), store, context, window)
            events = [event for item in mapped for event in item.events]
            results = [{"status": "accepted"} for _ in events]
            document = answer(mapped, results)
            assert len(document["result"]) == len(data)
            assert all(entry["error_code"] in (0, 1, 2, 3, 4) for entry in document["result"])

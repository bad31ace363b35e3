"""Readers of a portal record's fields that several event mappings share (procedure, agency, fee, due date,
supplements), pure like the mapping in dvcqg_events.py."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.ingest.domain.dvcqg import RecordError, ResultCode, date, items, text
from services.ingest.domain.dvcqg_tables import MappingTables

MAX_FEE_DIGITS = 15  # VND: larger is not a fee (and a very long digit string is slow to convert)


def read_procedure(record: Mapping[str, Any], tables: MappingTables) -> tuple[str, tuple[str, str] | None]:
    national = text(record, "MaTTHC")
    if not national:
        raise RecordError(ResultCode.INVALID_RECORD, "MaTTHC: required")
    if national in tables.procedures:
        return tables.procedures[national], None
    return national, (national, text(record, "TenTTHC"))


def read_agency(record: Mapping[str, Any], field_name: str, tables: MappingTables) -> str:
    name = text(record, field_name)
    agency = tables.agency(name) or tables.default_agency
    if agency is None:
        raise RecordError(
            ResultCode.UNKNOWN_AGENCY, f"{field_name}: {name!r} is not in the agencies table and there is no default"
        )
    return agency


def original_due(record: Mapping[str, Any]) -> datetime | None:
    """The first promise: `NgayHenTraTruoc` of the earliest supplement that moved it, else `NgayHenTra`."""
    for item in supplement_items(record):
        before = date(item, "NgayHenTraTruoc")
        if before is not None:
            return before
    return date(record, "NgayHenTra")


def supplement_items(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    dated = [(at, item) for item in items(record, "DanhSachHoSoBoSung") if (at := date(item, "NgayBoSung")) is not None]
    return [item for _at, item in sorted(dated, key=lambda pair: pair[0])]


def read_fee(record: Mapping[str, Any]) -> int:
    total = 0
    for item in items(record, "DanhSachLePhi"):
        for name in ("SoTien", "MucLePhi", "LePhi"):
            value = text(item, name).replace(".", "").replace(",", "")
            if value.isdigit() and len(value) <= MAX_FEE_DIGITS:
                total += int(value)
                break
    return total

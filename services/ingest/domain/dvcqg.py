"""The national portal's dossier-sync payloads (`DongBoHoSoMC`, `CapNhatTienDoHoSoMC`) as the one-stop systems
send them: every field a string, an empty string for absent, dates `yyyyMMddHHmmss` in Vietnam's time
(UTC+7, no daylight saving). Reading a body, the result codes, and what the ingest remembers of a dossier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import IntEnum, StrEnum
from typing import Any

SNAPSHOT_SERVICE = "DongBoHoSoMC"
STEPS_SERVICE = "CapNhatTienDoHoSoMC"
SERVICES = (SNAPSHOT_SERVICE, STEPS_SERVICE)
VIETNAM = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
DATE_FORMAT = "%Y%m%d%H%M%S"
MAX_CODE_LENGTH = 100


class ResultCode(IntEnum):
    """`error_code` of one record in the answer (0: kept; any other: this record only was refused)."""

    OK = 0
    INVALID_RECORD = 1
    REFUSED_BY_RULES = 2
    UNKNOWN_DOSSIER = 3
    UNKNOWN_AGENCY = 4


class Status(StrEnum):
    """`TrangThaiHoSo` of the portal."""

    REGISTERED = "1"
    ACCEPTED = "2"
    NOT_ACCEPTED = "3"
    PROCESSING = "4"
    SUPPLEMENT_REQUESTED = "5"
    PAYMENT_REQUESTED = "6"
    WITHDRAWN = "7"
    STOPPED = "8"
    PROCESSED = "9"
    RETURNED = "10"


ENDED = frozenset({Status.NOT_ACCEPTED, Status.WITHDRAWN, Status.STOPPED})
# Progress order: a snapshot whose status ranks lower than one already seen is a regression. 4, 5 and 6 share a
# rank (a dossier moves back and forth between processing, a supplement and a payment).
_RANK = {
    Status.REGISTERED: 0,
    Status.ACCEPTED: 1,
    Status.PROCESSING: 2,
    Status.SUPPLEMENT_REQUESTED: 2,
    Status.PAYMENT_REQUESTED: 2,
    Status.PROCESSED: 3,
    Status.RETURNED: 4,
    Status.NOT_ACCEPTED: 5,
    Status.WITHDRAWN: 5,
    Status.STOPPED: 5,
}


def regressed(seen: Status | None, now: Status) -> bool:
    """True when `now` goes back from `seen` (an ended dossier moving to any other status goes back too)."""
    if seen is None or seen == now:
        return False
    return seen in ENDED or _RANK[now] < _RANK[seen]


class PayloadError(ValueError):
    """The body as a whole is not a portal payload (422): `field` names where."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


class RecordError(ValueError):
    """One record cannot be mapped: its own result code and reason, the other records are kept."""

    def __init__(self, code: ResultCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Payload:
    service: str
    records: tuple[Mapping[str, Any], ...]


def read_payload(document: Any, max_records: int) -> Payload:
    """The body's service and records; a record that is not an object is kept here and refused on its own."""
    if not isinstance(document, dict):
        raise PayloadError("(body)", 'expected an object {"service": ..., "data": [...]}')
    service = document.get("service")
    if service not in SERVICES:
        raise PayloadError("service", f"expected one of {', '.join(SERVICES)}")
    data = document.get("data")
    if not isinstance(data, list):
        raise PayloadError("data", "expected an array of records")
    if len(data) > max_records:
        raise PayloadError("data", f"{len(data)} records; at most {max_records} in one request")
    return Payload(service, tuple(record if isinstance(record, dict) else {"(record)": record} for record in data))


def text(record: Mapping[str, Any], name: str) -> str:
    """A string field; missing or null is empty; numbers are accepted as their text; anything else is refused."""
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RecordError(ResultCode.INVALID_RECORD, f"{name}: expected a string")
    return str(value).strip()


def items(record: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    """An array of objects; missing, null or empty string is empty."""
    value = record.get(name)
    if value is None or value == "":
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise RecordError(ResultCode.INVALID_RECORD, f"{name}: expected an array of objects")
    return value


def dossier_code(record: Mapping[str, Any]) -> str:
    if "(record)" in record:
        raise RecordError(ResultCode.INVALID_RECORD, "expected an object")
    code = text(record, "MaHoSo")
    if not code:
        raise RecordError(ResultCode.INVALID_RECORD, "MaHoSo: required")
    if len(code) > MAX_CODE_LENGTH or any(ord(char) < 32 or ord(char) == 127 for char in code):
        raise RecordError(ResultCode.INVALID_RECORD, f"MaHoSo: at most {MAX_CODE_LENGTH} printable characters")
    return code


def date(record: Mapping[str, Any], name: str) -> datetime | None:
    """`yyyyMMddHHmmss` (Vietnam's time) or None when empty."""
    value = text(record, name)
    if not value:
        return None
    try:
        if len(value) != 14 or not value.isdigit():
            raise ValueError
        return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=VIETNAM)
    except ValueError:
        raise RecordError(ResultCode.INVALID_RECORD, f"{name}: {value!r} is not a date yyyyMMddHHmmss") from None


def status(record: Mapping[str, Any], name: str) -> Status | None:
    value = text(record, name)
    if not value:
        return None
    try:
        return Status(value.lstrip("0") or "0")
    except ValueError:
        raise RecordError(ResultCode.INVALID_RECORD, f"{name}: {value!r} is not a status 1..10") from None


def stamp(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).strftime(DATE_FORMAT)


@dataclass
class DossierMemo:
    """What the ingest remembers of one dossier (per source): the reference the step payloads lack, the most
    advanced status seen, the times it gave to undated events (so a re-sent snapshot gets the same ids), the
    times the step payloads gave to statuses, and the regressions seen."""

    procedure_code: str | None = None
    agency: str | None = None
    status: Status | None = None
    assigned: dict[str, str] = field(default_factory=dict)
    step_times: dict[str, str] = field(default_factory=dict)
    anomalies: int = 0
    last_anomaly: str | None = None


@dataclass(frozen=True)
class Unmapped:
    """A national procedure code the mapping tables lack, seen on one dossier."""

    procedure_code: str
    name: str
    dossier_code: str


@dataclass(frozen=True)
class RecordOutcome:
    """One record's answer and what it implies: the events (as CloudEvent mappings) and the memo to keep."""

    dossier_code: str | None
    code: ResultCode
    message: str
    events: Sequence[dict[str, Any]] = ()
    memo: DossierMemo | None = None
    unmapped_procedure: tuple[str, str] | None = None
    regressed: bool = False

    @property
    def result_label(self) -> str:
        """The bounded metric label: `kept`, `regressed`, or the refusal's name (`unknown_agency`)."""
        if self.code is ResultCode.OK:
            return "regressed" if self.regressed else "kept"
        return self.code.name.lower()

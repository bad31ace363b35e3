"""The dossier projection's data: event order and the state row (see `dossier.py` for the rules)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

TYPE_ORDER = (
    "dossier.submitted",
    "dossier.accepted",
    "dossier.transferred",
    "dossier.supplement_requested",
    "dossier.supplement_received",
    "dossier.payment_requested",
    "dossier.paid",
    "dossier.rescheduled",
    "dossier.processed",
    "dossier.returned",
    "dossier.rejected",
    "dossier.withdrawn",
    "dossier.stopped",
)
TYPE_RANK = {name: rank for rank, name in enumerate(TYPE_ORDER)}
_SEPARATOR = "\x1f"
_RANK_TEXT = {name: f"{_SEPARATOR}{rank:02d}{_SEPARATOR}" for name, rank in TYPE_RANK.items()}
_OTHER_RANK_TEXT = f"{_SEPARATOR}{len(TYPE_ORDER):02d}{_SEPARATOR}"


class DossierStatus(StrEnum):
    """Lifecycle status; `paused` while a supplement or payment is awaited."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PAUSED = "paused"
    PROCESSED = "processed"
    RETURNED = "returned"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    STOPPED = "stopped"


_CLOSED_BEFORE_ACCEPTANCE = frozenset({DossierStatus.REJECTED, DossierStatus.WITHDRAWN, DossierStatus.STOPPED})
# After these nothing can happen to a dossier: a later dossier event is an anomaly, recorded and not counted.
TERMINAL = frozenset({DossierStatus.RETURNED, DossierStatus.REJECTED, DossierStatus.WITHDRAWN, DossierStatus.STOPPED})


@dataclass(slots=True)
class DossierEvent:
    """One dossier.* event as the fold sees it: `type` is the short name (`dossier.accepted`) and `data`
    the payload WITHOUT personal data (the applicant is reduced to `applicant_kind`). Values are JSON
    types, except times, which may be aware datetimes or ISO strings (as read back from storage)."""

    source: str
    id: str
    type: str
    time: datetime
    dossier_code: str
    data: Mapping[str, Any]
    key: str = field(
        default="", compare=False
    )  # `utc_key_text` of the event, computed once (the fold compares it often)

    def __post_init__(self) -> None:
        if not self.key:
            self.key = utc_key_text(self.time.astimezone(UTC), self.type, self.source, self.id)


def utc_key_text(time: datetime, event_type: str, source: str, event_id: str) -> str:
    """The event's total order as a string, stored as `last_event_key`: time in UTC (fixed width, so text order
    is time order), then the lifecycle rank of the type, then source and id. `time` must be in UTC."""
    stamp = time.isoformat()  # without arguments: keyword parsing and replace() cost more than the slicing
    stamp = stamp[:26] if time.microsecond else stamp[:19] + ".000000"  # isoformat() drops zero microseconds
    return stamp + _RANK_TEXT.get(event_type, _OTHER_RANK_TEXT) + source + _SEPARATOR + event_id


@dataclass(slots=True)
class DossierState:
    """The projection row of one dossier; every field maps to a column of `indicators_dossiers`."""

    dossier_code: str
    procedure_code: str
    agency: str  # handling agency: the event's agency, then `to_agency` after a transfer
    status: DossierStatus = DossierStatus.SUBMITTED
    receiving_agency: str | None = None
    officer: str | None = None  # handling officer: acceptor, then `to_officer`, then who processed
    channel: str | None = None
    applicant_kind: str | None = None
    submitted_at: datetime | None = None
    accepted_at: datetime | None = None
    due_at: datetime | None = None  # original promise, used for the judgement
    rescheduled_due_at: datetime | None = None  # latest new promise (apology slip)
    rescheduled_at: datetime | None = None  # when the first apology slip was issued
    extended_due_at: datetime | None = None  # due_at + working time paused (closed pauses)
    paused_seconds: float = 0.0
    paused_since: datetime | None = None
    open_pauses: str = ""  # comma-separated pause kinds currently open: "payment", "supplement"
    supplement_requests: int = 0
    late_at: datetime | None = None  # second supplement request
    transfers: int = 0
    reschedules: int = 0
    digitized: bool | None = None
    reused_data: bool | None = None
    processed_at: datetime | None = None
    result_electronic: bool | None = None
    result_digitized: bool | None = None
    returned_at: datetime | None = None
    delivery: str | None = None
    payment_requested_at: datetime | None = None
    paid_at: datetime | None = None
    paid_online: bool | None = None
    fee_amount: int | None = None
    rejected_at: datetime | None = None
    ended_at: datetime | None = None
    end_kind: str | None = None
    elapsed_working_seconds: float | None = None  # active clock time, set when the clock ends
    on_time: bool | None = None  # set when the clock ends
    overdue_from: datetime | None = None  # while open: the instant it becomes (or became) overdue
    event_count: int = 0
    anomalies: int = 0  # dossier events timed after a terminal status: recorded, never counted
    last_anomaly: str | None = None  # type of the latest such event, e.g. "dossier.processed"
    last_event_key: str = ""

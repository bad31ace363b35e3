"""Dossier projection: a pure left fold of a dossier's events, in event-time order (DESIGN §4).

Clock rules:
- the clock starts at the first `dossier.accepted`; its `due_at` is the ORIGINAL due date;
- it ends at the first of processed / stopped / withdrawn (also rejected after acceptance, and returned
  when no processed event was seen: a result cannot be returned unprocessed);
- `rescheduled` records a new promise (`rescheduled_due_at`) but the judgement uses the original due date;
- pauses (supplement_requested -> supplement_received, payment_requested -> paid) extend the due date by
  the working time paused (`extended_due_at`); overlapping pauses count once;
- a second supplement request makes the dossier late (`late_at`), as the national portal counts it;
- on time: ended at or before the extended due date and never made late; overdue: open past it.

Convergence: events may arrive late, twice or out of order. `fold` de-duplicates by (source, id) and
sorts by `event_sort_key` (time, type rank, source, id), so any arrival order gives the same state.
The adapter applies an event incrementally with `apply_event` only when it sorts after every event
already folded (`follows`), and otherwise refolds the dossier's stored events with `fold`.

Stable API (indicators-B builds on it): `DossierEvent`, `DossierState` (fields), `fold`, `apply_event`,
`follows`, `is_open`, `is_overdue`, `elapsed_working_seconds`, `event_sort_key`, `key_text`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from services.indicators.domain.calendar import WorkingClock

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

EventKey = tuple[datetime, int, str, str]


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


@dataclass(frozen=True, slots=True)
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

    @property
    def sort_key(self) -> EventKey:
        return event_sort_key(self.time, self.type, self.source, self.id)


def event_sort_key(time: datetime, event_type: str, source: str, event_id: str) -> EventKey:
    """Total order of events: time (UTC), then lifecycle rank of the type, then source and id."""
    return (time.astimezone(UTC), TYPE_RANK.get(event_type, len(TYPE_ORDER)), source, event_id)


def key_text(key: EventKey) -> str:
    """A string that sorts like the key (fixed-width UTC time first); stored as `last_event_key`."""
    time, rank, source, event_id = key
    stamp = time.replace(tzinfo=None).isoformat(timespec="microseconds")  # fixed width, UTC
    return f"{stamp}{_SEPARATOR}{rank:02d}{_SEPARATOR}{source}{_SEPARATOR}{event_id}"


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
    last_event_key: str = ""
    pause_kinds: set[str] = field(default_factory=set, repr=False, compare=False)  # parsed `open_pauses`

    def __post_init__(self) -> None:
        self.pause_kinds = {kind for kind in self.open_pauses.split(",") if kind}


def follows(state: DossierState | None, event: DossierEvent) -> bool:
    """True when `event` sorts after every event folded into `state` (incremental apply is exact)."""
    return state is None or key_text(event.sort_key) > state.last_event_key


def fold(events: Iterable[DossierEvent], clock: WorkingClock) -> DossierState | None:
    """The state after every distinct event, applied in `event_sort_key` order (exactly once each)."""
    unique = {(event.source, event.id): event for event in events}
    state: DossierState | None = None
    for event in sorted(unique.values(), key=lambda item: item.sort_key):
        state = apply_event(state, event, clock)
    return state


def apply_event(state: DossierState | None, event: DossierEvent, clock: WorkingClock) -> DossierState:
    """Apply one event that sorts after all previous ones. Mutates and returns `state` (or a new one)."""
    data = event.data
    if state is None:
        state = DossierState(
            dossier_code=event.dossier_code, procedure_code=str(data["procedure_code"]), agency=str(data["agency"])
        )
    at = event.time
    handler = _HANDLERS.get(event.type)
    if handler is not None:
        handler(state, data, at, clock)
    state.event_count += 1
    state.last_event_key = key_text(event.sort_key)
    _derive(state, clock)
    return state


def is_open(state: DossierState) -> bool:
    """The clock runs: accepted and not ended."""
    return state.accepted_at is not None and state.ended_at is None


def is_overdue(state: DossierState, at: datetime) -> bool:
    """Open and past its extended due date (or made late) at instant `at`."""
    return is_open(state) and state.overdue_from is not None and state.overdue_from < at


def elapsed_working_seconds(state: DossierState, at: datetime, clock: WorkingClock) -> float | None:
    """Active clock time (working seconds, pauses excluded) from acceptance to the end, or to `at`."""
    if state.accepted_at is None:
        return None
    if state.ended_at is not None and state.elapsed_working_seconds is not None:
        return state.elapsed_working_seconds
    end = max(at, state.accepted_at)
    paused = state.paused_seconds
    if state.paused_since is not None and end > state.paused_since:
        paused += clock.working_seconds_between(state.paused_since, end)
    return max(0.0, clock.working_seconds_between(state.accepted_at, end) - paused)


def _parse_time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _running(state: DossierState) -> bool:
    return state.accepted_at is not None and state.ended_at is None


def _open_pause(state: DossierState, kind: str, at: datetime) -> None:
    if not _running(state):
        return
    if not state.pause_kinds:
        state.paused_since = at
    state.pause_kinds.add(kind)
    state.open_pauses = ",".join(sorted(state.pause_kinds))


def _close_pause(state: DossierState, kind: str, at: datetime, clock: WorkingClock) -> None:
    if kind not in state.pause_kinds:
        return
    state.pause_kinds.discard(kind)
    state.open_pauses = ",".join(sorted(state.pause_kinds))
    if not state.pause_kinds:
        _close_all_pauses(state, at, clock)


def _close_all_pauses(state: DossierState, at: datetime, clock: WorkingClock) -> None:
    if state.paused_since is not None:
        state.paused_seconds += max(0.0, clock.working_seconds_between(state.paused_since, at))
    state.paused_since = None
    state.pause_kinds.clear()
    state.open_pauses = ""


def _end_clock(state: DossierState, kind: str, at: datetime, clock: WorkingClock) -> None:
    if not _running(state) or state.accepted_at is None:
        return
    _close_all_pauses(state, at, clock)
    state.ended_at = at
    state.end_kind = kind
    active = clock.working_seconds_between(state.accepted_at, at) - state.paused_seconds
    state.elapsed_working_seconds = max(0.0, active)


def _submitted(state: DossierState, data: Mapping[str, Any], at: datetime, _clock: WorkingClock) -> None:
    if state.submitted_at is None:
        state.submitted_at = at
    state.channel = state.channel or data.get("channel")
    state.applicant_kind = state.applicant_kind or data.get("applicant_kind")


def _accepted(state: DossierState, data: Mapping[str, Any], at: datetime, _clock: WorkingClock) -> None:
    if state.accepted_at is not None or state.status in _CLOSED_BEFORE_ACCEPTANCE:
        return
    state.accepted_at = at
    state.due_at = _parse_time(data["due_at"])
    state.channel = data.get("channel", state.channel)
    state.applicant_kind = data.get("applicant_kind", state.applicant_kind)
    state.receiving_agency = data.get("receiving_agency")
    state.officer = data.get("officer")
    state.agency = str(data.get("agency", state.agency))
    state.procedure_code = str(data.get("procedure_code", state.procedure_code))
    state.digitized = data.get("digitized")
    state.reused_data = data.get("reused_data")
    if state.status is DossierStatus.SUBMITTED:
        state.status = DossierStatus.ACCEPTED


def _transferred(state: DossierState, data: Mapping[str, Any], _at: datetime, _clock: WorkingClock) -> None:
    state.transfers += 1
    state.agency = str(data.get("to_agency", state.agency))
    state.officer = data.get("to_officer", state.officer)


def _supplement_requested(state: DossierState, _data: Mapping[str, Any], at: datetime, _clock: WorkingClock) -> None:
    if not _running(state):
        return
    state.supplement_requests += 1
    if state.supplement_requests >= 2 and state.late_at is None:
        state.late_at = at
    _open_pause(state, "supplement", at)


def _supplement_received(state: DossierState, _data: Mapping[str, Any], at: datetime, clock: WorkingClock) -> None:
    _close_pause(state, "supplement", at, clock)


def _payment_requested(state: DossierState, _data: Mapping[str, Any], at: datetime, _clock: WorkingClock) -> None:
    if state.payment_requested_at is None:
        state.payment_requested_at = at
    _open_pause(state, "payment", at)


def _paid(state: DossierState, data: Mapping[str, Any], at: datetime, clock: WorkingClock) -> None:
    if state.paid_at is None:
        state.paid_at = at
        state.paid_online = data.get("paid_online")
        state.fee_amount = data.get("fee_amount")
    _close_pause(state, "payment", at, clock)


def _rescheduled(state: DossierState, data: Mapping[str, Any], _at: datetime, _clock: WorkingClock) -> None:
    state.reschedules += 1
    state.rescheduled_due_at = _parse_time(data["new_due_at"])


def _processed(state: DossierState, data: Mapping[str, Any], at: datetime, clock: WorkingClock) -> None:
    if state.processed_at is not None:
        return
    state.processed_at = at
    state.result_electronic = data.get("result_electronic")
    state.result_digitized = data.get("result_digitized")
    state.officer = data.get("officer", state.officer)
    if state.ended_at is None:
        _end_clock(state, "processed", at, clock)
        state.status = DossierStatus.PROCESSED


def _returned(state: DossierState, data: Mapping[str, Any], at: datetime, clock: WorkingClock) -> None:
    if state.returned_at is not None:
        return
    state.returned_at = at
    state.delivery = data.get("delivery")
    _end_clock(state, "returned", at, clock)
    if state.status in (DossierStatus.ACCEPTED, DossierStatus.PAUSED, DossierStatus.PROCESSED):
        state.status = DossierStatus.RETURNED


def _terminal(status: DossierStatus) -> Any:
    def handler(state: DossierState, _data: Mapping[str, Any], at: datetime, clock: WorkingClock) -> None:
        if status is DossierStatus.REJECTED and state.rejected_at is None:
            state.rejected_at = at
        if state.ended_at is not None or state.status in (DossierStatus.REJECTED, DossierStatus.RETURNED):
            return
        _end_clock(state, status.value, at, clock)
        state.status = status

    return handler


_HANDLERS: dict[str, Any] = {
    "dossier.submitted": _submitted,
    "dossier.accepted": _accepted,
    "dossier.transferred": _transferred,
    "dossier.supplement_requested": _supplement_requested,
    "dossier.supplement_received": _supplement_received,
    "dossier.payment_requested": _payment_requested,
    "dossier.paid": _paid,
    "dossier.rescheduled": _rescheduled,
    "dossier.processed": _processed,
    "dossier.returned": _returned,
    "dossier.rejected": _terminal(DossierStatus.REJECTED),
    "dossier.withdrawn": _terminal(DossierStatus.WITHDRAWN),
    "dossier.stopped": _terminal(DossierStatus.STOPPED),
}


def _derive(state: DossierState, clock: WorkingClock) -> None:
    """Recompute extended due date, timeliness and the overdue instant after every event."""
    if state.due_at is None:
        return
    if state.paused_seconds:
        state.extended_due_at = clock.add_working_time(state.due_at, state.paused_seconds)
    else:
        state.extended_due_at = state.due_at
    if state.ended_at is not None:
        state.on_time = state.late_at is None and state.ended_at <= state.extended_due_at
        state.overdue_from = None
        return
    if state.status in (DossierStatus.ACCEPTED, DossierStatus.PAUSED):
        state.status = DossierStatus.PAUSED if state.pause_kinds else DossierStatus.ACCEPTED
    candidates = [] if state.late_at is None else [state.late_at]
    paused_before_due = state.paused_since is not None and state.paused_since <= state.extended_due_at
    if not paused_before_due:
        candidates.append(state.extended_due_at)
    state.overdue_from = min(candidates) if candidates else None

"""Dossier projection: a pure left fold of a dossier's events, in event-time order (design §4).

Clock rules:
- the clock starts at the first `dossier.accepted`; its `due_at` is the ORIGINAL due date;
- it ends at the first of processed / stopped / withdrawn (also rejected after acceptance, and returned
  when no processed event was seen: a result cannot be returned unprocessed);
- `rescheduled` records a new promise (`rescheduled_due_at`) but the judgement uses the original due date;
- pauses (supplement_requested -> supplement_received, payment_requested -> paid) extend the due date by
  the working time paused (`extended_due_at`); overlapping pauses count once;
- a second supplement request makes the dossier late (`late_at`), as the national portal counts it;
- on time: ended at or before the extended due date and never made late; overdue: open past it;
- terminal states are final: a dossier event timed after `returned`, `rejected`, `withdrawn` or `stopped`
  changes nothing but the dossier's `anomalies` count and `last_anomaly` type (it is never counted).

Convergence: events may arrive late, twice or out of order. `fold` de-duplicates by (source, id) and
sorts by `DossierEvent.key` (time, type rank, source, id), so any arrival order gives the same state.
The adapter applies an event incrementally with `apply_event` only when it sorts after every event
already folded (`follows`), and otherwise refolds the dossier's stored events with `fold`.

Stable API (indicators-B builds on it): `DossierEvent`, `DossierState` (fields), `fold`, `apply_event`,
`follows`, `is_open`, `is_overdue`, `elapsed_working_seconds`, `utc_key_text`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from services.indicators.domain.calendar import WorkingClock
from services.indicators.domain.dossier_model import (
    TERMINAL,
    TYPE_ORDER,
    TYPE_RANK,
    DossierEvent,
    DossierState,
    DossierStatus,
    utc_key_text,
)
from services.indicators.domain.dossier_rules import HANDLERS, derive

__all__ = [
    "TYPE_ORDER",
    "TYPE_RANK",
    "DossierEvent",
    "DossierState",
    "DossierStatus",
    "apply_event",
    "elapsed_working_seconds",
    "fold",
    "follows",
    "is_open",
    "is_overdue",
    "utc_key_text",
]


def follows(state: DossierState | None, event: DossierEvent) -> bool:
    """True when `event` sorts after every event folded into `state` (incremental apply is exact)."""
    return state is None or event.key > state.last_event_key


def fold(events: Iterable[DossierEvent], clock: WorkingClock) -> DossierState | None:
    """The state after every distinct event, applied in `DossierEvent.key` order (exactly once each)."""
    unique = {(event.source, event.id): event for event in events}
    state: DossierState | None = None
    for event in sorted(unique.values(), key=lambda item: item.key):
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
    handler = HANDLERS.get(event.type)
    if handler is not None and state.status in TERMINAL:
        state.anomalies += 1
        state.last_anomaly = event.type
    elif handler is not None:
        handler(state, data, at, clock)
    state.event_count += 1
    state.last_event_key = event.key
    derive(state, clock)
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

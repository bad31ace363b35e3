"""How each dossier.* event changes a `DossierState` (design §4 clock rules; see `dossier.py`)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.indicators.domain.calendar import WorkingClock
from services.indicators.domain.dossier_model import _CLOSED_BEFORE_ACCEPTANCE, DossierState, DossierStatus


def _parse_time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _running(state: DossierState) -> bool:
    return state.accepted_at is not None and state.ended_at is None


def _pause_kinds(state: DossierState) -> set[str]:
    return {kind for kind in state.open_pauses.split(",") if kind}


def _set_pause_kinds(state: DossierState, kinds: set[str]) -> None:
    # Kept as the column's text only, interned: a parsed set per cached state cost 216 bytes.
    state.open_pauses = sys.intern(",".join(sorted(kinds)))


def _open_pause(state: DossierState, kind: str, at: datetime) -> None:
    if not _running(state):
        return
    kinds = _pause_kinds(state)
    if not kinds:
        state.paused_since = at
    kinds.add(kind)
    _set_pause_kinds(state, kinds)


def _close_pause(state: DossierState, kind: str, at: datetime, clock: WorkingClock) -> None:
    kinds = _pause_kinds(state)
    if kind not in kinds:
        return
    kinds.discard(kind)
    _set_pause_kinds(state, kinds)
    if not kinds:
        _close_all_pauses(state, at, clock)


def _close_all_pauses(state: DossierState, at: datetime, clock: WorkingClock) -> None:
    if state.paused_since is not None:
        state.paused_seconds += max(0.0, clock.working_seconds_between(state.paused_since, at))
        if state.due_at is not None:
            state.extended_due_at = clock.add_working_time(state.due_at, state.paused_seconds)
    state.paused_since = None
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
    state.extended_due_at = state.due_at  # no pause can have closed before acceptance
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


def _rescheduled(state: DossierState, data: Mapping[str, Any], at: datetime, _clock: WorkingClock) -> None:
    if state.rescheduled_at is None:
        state.rescheduled_at = at
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


HANDLERS: dict[str, Any] = {
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


def derive(state: DossierState, clock: WorkingClock) -> None:
    """Recompute timeliness and the overdue instant after every event (the extended due date changes only
    when a pause closes, and is kept up to date there)."""
    if state.due_at is None:
        return
    if state.extended_due_at is None:
        state.extended_due_at = clock.add_working_time(state.due_at, state.paused_seconds)
    if state.ended_at is not None:
        state.on_time = state.late_at is None and state.ended_at <= state.extended_due_at
        state.overdue_from = None
        return
    if state.status in (DossierStatus.ACCEPTED, DossierStatus.PAUSED):
        state.status = DossierStatus.PAUSED if state.open_pauses and _pause_kinds(state) else DossierStatus.ACCEPTED
    candidates = [] if state.late_at is None else [state.late_at]
    paused_before_due = state.paused_since is not None and state.paused_since <= state.extended_due_at
    if not paused_before_due:
        candidates.append(state.extended_due_at)
    state.overdue_from = min(candidates) if candidates else None

"""The dossier fold applies design §4's clock rules on real 2026 working time."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest

from services.indicators.domain.calendar import WorkingCalendar, build_calendar
from services.indicators.domain.dossier import DossierStatus, elapsed_working_seconds, fold, is_overdue
from tests.indicators.dossier_helpers import event

VN = timezone(timedelta(hours=7))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN)


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return build_calendar()


ACCEPTED = event("dossier.accepted", "2026-03-02T08:00:00+07:00", due_at="2026-03-04T17:00:00+07:00")


def test_dossier_is_on_time_when_processed_before_its_due_date(calendar: WorkingCalendar) -> None:
    state = fold([ACCEPTED, event("dossier.processed", "2026-03-04T10:00:00+07:00")], calendar)
    assert state is not None
    assert (state.status, state.on_time, state.end_kind) == (DossierStatus.PROCESSED, True, "processed")
    assert state.elapsed_working_seconds == (7 + 7.5 + 2.5) * 3600  # Mon from 08:00, Tue, Wed to 10:00


def test_dossier_is_late_when_processed_after_its_due_date(calendar: WorkingCalendar) -> None:
    state = fold([ACCEPTED, event("dossier.processed", "2026-03-05T08:00:00+07:00")], calendar)
    assert state is not None
    assert state.on_time is False


def test_dossier_is_on_time_when_it_ends_exactly_at_its_due_time(calendar: WorkingCalendar) -> None:
    exactly = fold([ACCEPTED, event("dossier.processed", "2026-03-04T17:00:00+07:00")], calendar)
    a_second_later = fold([ACCEPTED, event("dossier.processed", "2026-03-04T17:00:01+07:00")], calendar)

    assert exactly is not None
    assert a_second_later is not None
    assert (exactly.on_time, a_second_later.on_time) == (True, False)


def test_dossier_is_on_time_when_it_ends_exactly_at_its_extended_due_time(calendar: WorkingCalendar) -> None:
    paused_a_working_day = [
        ACCEPTED,
        event("dossier.supplement_requested", "2026-03-03T08:00:00+07:00"),
        event("dossier.supplement_received", "2026-03-04T08:00:00+07:00"),
    ]
    exactly = fold([*paused_a_working_day, event("dossier.processed", "2026-03-05T17:00:00+07:00")], calendar)
    withdrawn = fold([*paused_a_working_day, event("dossier.withdrawn", "2026-03-05T17:00:00+07:00")], calendar)

    assert exactly is not None
    assert withdrawn is not None
    assert (exactly.extended_due_at, exactly.on_time) == (at("2026-03-05T17:00"), True)
    assert (withdrawn.end_kind, withdrawn.on_time) == ("withdrawn", True)


def test_supplement_pause_extends_the_due_date_when_the_citizen_answers(calendar: WorkingCalendar) -> None:
    events = [
        ACCEPTED,
        event("dossier.supplement_requested", "2026-03-03T08:00:00+07:00"),
        event("dossier.supplement_received", "2026-03-04T08:00:00+07:00"),
        event("dossier.processed", "2026-03-05T16:00:00+07:00"),
    ]
    state = fold(events, calendar)
    assert state is not None
    assert state.paused_seconds == 7.5 * 3600
    assert state.extended_due_at == at("2026-03-05T17:00")
    assert state.due_at == at("2026-03-04T17:00")
    assert state.on_time is True


def test_payment_pause_extends_the_due_date_when_the_fee_is_paid(calendar: WorkingCalendar) -> None:
    events = [
        ACCEPTED,
        event("dossier.payment_requested", "2026-03-04T14:00:00+07:00"),
        event("dossier.paid", "2026-03-04T16:00:00+07:00", paid_online=True),
    ]
    state = fold(events, calendar)
    assert state is not None
    assert state.extended_due_at == at("2026-03-05T09:30")
    assert (state.paid_online, state.fee_amount) == (True, 50000)


def test_dossier_is_late_when_a_second_supplement_is_requested(calendar: WorkingCalendar) -> None:
    events = [
        ACCEPTED,
        event("dossier.supplement_requested", "2026-03-02T09:00:00+07:00"),
        event("dossier.supplement_received", "2026-03-02T10:00:00+07:00"),
        event("dossier.supplement_requested", "2026-03-02T11:00:00+07:00"),
        event("dossier.supplement_received", "2026-03-02T14:00:00+07:00"),
        event("dossier.processed", "2026-03-02T15:00:00+07:00"),
    ]
    state = fold(events, calendar)
    assert state is not None
    assert (state.supplement_requests, state.late_at, state.on_time) == (2, at("2026-03-02T11:00"), False)


def test_judgement_uses_the_original_due_date_when_the_dossier_was_rescheduled(calendar: WorkingCalendar) -> None:
    events = [
        ACCEPTED,
        event("dossier.rescheduled", "2026-03-04T15:00:00+07:00", new_due_at="2026-03-09T17:00:00+07:00"),
        event("dossier.processed", "2026-03-06T10:00:00+07:00"),
    ]
    state = fold(events, calendar)
    assert state is not None
    assert (state.rescheduled_due_at, state.on_time) == (at("2026-03-09T17:00"), False)


def test_first_apology_and_first_payment_times_are_kept_when_steps_repeat(calendar: WorkingCalendar) -> None:
    events = [
        ACCEPTED,
        event("dossier.payment_requested", "2026-03-02T09:00:00+07:00"),
        event("dossier.paid", "2026-03-02T10:00:00+07:00", paid_online=True),
        event("dossier.payment_requested", "2026-03-03T09:00:00+07:00"),
        event("dossier.paid", "2026-03-03T10:00:00+07:00", paid_online=False),
        event("dossier.rescheduled", "2026-03-04T15:00:00+07:00", new_due_at="2026-03-09T17:00:00+07:00"),
        event("dossier.rescheduled", "2026-03-09T15:00:00+07:00", new_due_at="2026-03-11T17:00:00+07:00"),
    ]
    state = fold(events, calendar)
    assert state is not None
    assert (state.payment_requested_at, state.paid_at, state.paid_online) == (
        at("2026-03-02T09:00"),
        at("2026-03-02T10:00"),
        True,
    )
    assert (state.rescheduled_at, state.reschedules, state.rescheduled_due_at) == (
        at("2026-03-04T15:00"),
        2,
        at("2026-03-11T17:00"),
    )


def test_open_dossier_is_overdue_when_past_its_due_date_but_not_while_paused(calendar: WorkingCalendar) -> None:
    open_state = fold([ACCEPTED], calendar)
    assert open_state is not None
    assert not is_overdue(open_state, at("2026-03-04T16:59"))
    assert is_overdue(open_state, at("2026-03-05T08:00"))
    paused = fold([ACCEPTED, event("dossier.supplement_requested", "2026-03-03T08:00:00+07:00")], calendar)
    assert paused is not None
    assert paused.status is DossierStatus.PAUSED
    assert not is_overdue(paused, at("2026-03-20T08:00"))
    assert elapsed_working_seconds(paused, at("2026-03-20T08:00"), calendar) == 7.5 * 3600


def test_clock_ends_at_withdrawal_when_the_citizen_withdraws(calendar: WorkingCalendar) -> None:
    state = fold([ACCEPTED, event("dossier.withdrawn", "2026-03-03T08:00:00+07:00")], calendar)
    assert state is not None
    assert (state.status, state.ended_at, state.on_time) == (DossierStatus.WITHDRAWN, at("2026-03-03T08:00"), True)


def test_state_is_the_same_when_events_arrive_in_any_order_and_twice(calendar: WorkingCalendar) -> None:
    events = [
        ACCEPTED,
        event("dossier.transferred", "2026-03-02T09:00:00+07:00"),
        event("dossier.supplement_requested", "2026-03-03T08:00:00+07:00"),
        event("dossier.supplement_received", "2026-03-04T08:00:00+07:00"),
        event("dossier.processed", "2026-03-05T16:00:00+07:00"),
    ]
    expected = fold(events, calendar)
    for order in itertools.permutations(events):
        assert fold([*order, order[0]], calendar) == expected


def test_projected_event_carries_no_personal_data_when_the_applicant_is_named() -> None:
    assert ACCEPTED.data["applicant_kind"] == "citizen"
    assert "applicant" not in ACCEPTED.data
    assert "0912345678" not in repr(ACCEPTED)


def test_overlapping_pauses_count_once_when_a_supplement_and_a_payment_are_awaited_together(
    calendar: WorkingCalendar,
) -> None:
    both_open = [
        ACCEPTED,
        event("dossier.supplement_requested", "2026-03-02T09:00:00+07:00"),
        event("dossier.payment_requested", "2026-03-02T10:00:00+07:00"),
    ]
    one_closed = [*both_open, event("dossier.supplement_received", "2026-03-02T10:15:00+07:00")]
    both_closed = [*one_closed, event("dossier.paid", "2026-03-02T10:30:00+07:00")]
    states = [fold(events, calendar) for events in (both_open, one_closed, both_closed)]
    assert [(state.status, state.open_pauses) for state in states if state is not None] == [
        (DossierStatus.PAUSED, "payment,supplement"),
        (DossierStatus.PAUSED, "payment"),
        (DossierStatus.ACCEPTED, ""),
    ]
    assert states[2] is not None
    assert states[2].paused_seconds == 1.5 * 3600  # 09:00 to 10:30, once

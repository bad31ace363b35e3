"""The ingest's time rules as pure functions: the clock is a parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from pydantic import AwareDatetime

from services.contracts._base import ContractModel
from services.contracts.events import CloudEvent, EventType, message_id
from services.contracts.timebounds import DueDate, parse_local_instant
from services.ingest.domain.time_rules import TimeRules, add_years, time_errors
from services.ingest.domain.validation import Mode, Rejected, check_times, decode_body
from tests.factories import dossier_event

NOW = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)
WINDOW = TimeRules().window(NOW)


def _errors(*events: dict[str, object], mode: Mode = Mode.BATCH) -> list[tuple[int, str]]:
    body = orjson.dumps(list(events) if mode is Mode.BATCH else events[0])
    decoded = decode_body(None, body, {}, max_events=10)
    try:
        check_times(decoded.events, WINDOW, decoded.mode)
    except Rejected as rejection:
        return [(error.index, error.field) for error in rejection.errors if rejection.status == 422]
    return []


def test_event_time_is_accepted_when_it_is_at_most_the_tolerance_after_the_clock() -> None:
    at_limit = dossier_event("dossier.paid", time=NOW + timedelta(minutes=5))
    just_after = dossier_event("dossier.paid", time=NOW + timedelta(minutes=5, seconds=1))

    assert _errors(at_limit) == []
    assert _errors(at_limit, just_after) == [(1, "[1].time")]


def test_event_time_is_refused_when_it_is_before_2000_or_far_outside_the_calendar() -> None:
    events = [
        dossier_event("dossier.paid", time="1999-12-31T23:59:59Z"),
        dossier_event("dossier.paid", time="0001-01-01T00:00:00+14:00"),
        dossier_event("dossier.paid", time="9999-12-31T23:59:59-14:00"),
        dossier_event("dossier.paid", time="2000-01-01T00:00:00Z"),
    ]

    assert _errors(*events) == [(0, "[0].time"), (1, "[1].time"), (2, "[2].time")]


def test_due_dates_are_refused_naming_the_field_when_outside_time_to_ten_years_after() -> None:
    time = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    events = [
        dossier_event("dossier.accepted", time=time, due_at=(time - timedelta(seconds=1)).isoformat()),
        dossier_event("dossier.accepted", time=time, due_at=time.replace(year=2036).isoformat()),
        dossier_event(
            "dossier.rescheduled", time=time, new_due_at=(time.replace(year=2036) + timedelta(seconds=1)).isoformat()
        ),
        dossier_event("dossier.accepted", time=time, due_at=time.isoformat()),
    ]

    assert _errors(*events) == [(0, "[0].data.due_at"), (2, "[2].data.new_due_at")]


def test_a_due_date_years_ahead_is_accepted_when_the_event_time_is_valid() -> None:
    event = dossier_event("dossier.accepted", time=NOW, due_at="2035-06-30T17:00:00+07:00")

    assert _errors(event, mode=Mode.STRUCTURED) == []


def test_time_reason_names_the_limit_and_the_rule_when_an_event_is_dated_400_days_ahead() -> None:
    decoded = decode_body(
        None, orjson.dumps(dossier_event("dossier.paid", time=NOW + timedelta(days=400))), {}, max_events=1
    )

    with pytest.raises(Rejected) as refused:
        check_times(decoded.events, WINDOW, decoded.mode)

    error = refused.value.errors[0]
    assert (error.index, error.field) == (0, "time")
    assert error.reason == (
        "is after 2026-12-04T07:05:00Z (the ingest's clock plus 300 s): an event's time is when it happened, "
        "never in the future"
    )


def test_binary_mode_names_the_header_when_ce_time_is_in_the_future() -> None:
    event = dossier_event("dossier.paid")
    attributes = {name: str(value) for name, value in event.items() if name != "data"}
    attributes["time"] = (NOW + timedelta(days=1)).isoformat()
    decoded = decode_body(None, orjson.dumps(event["data"]), attributes, max_events=1)

    with pytest.raises(Rejected) as refused:
        check_times(decoded.events, WINDOW, decoded.mode)

    assert refused.value.errors[0].field == "ce-time (header)"


def test_ten_years_after_a_leap_day_is_the_28th_of_february_when_adding_years() -> None:
    assert add_years(datetime(2028, 2, 29, 9, tzinfo=UTC), 10) == datetime(2038, 2, 28, 9, tzinfo=UTC)


def test_control_characters_are_refused_naming_the_field_when_in_source_or_id() -> None:
    events = [
        dossier_event("dossier.paid", event_id="evt-1\r\nX-Injected: 1"),
        dossier_event("dossier.paid", source="urn:dvc:lam-thao:\tone-stop"),
        dossier_event("dossier.paid", event_id="evt-ok-Ünïcødé"),
    ]

    with pytest.raises(Rejected) as refused:
        decode_body(None, orjson.dumps(events), {}, max_events=10)

    assert [(error.index, error.field) for error in refused.value.errors] == [(0, "[0].id"), (1, "[1].source")]
    assert refused.value.status == 422


def test_message_ids_differ_when_source_and_id_split_the_same_text_differently() -> None:
    first, second = message_id("urn:dvc:a:b", "1"), message_id("urn:dvc:a", "b:1")

    assert first != second
    assert len(first) == 64
    assert set(first) <= set("0123456789abcdef")


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1999-12-31", "2101-01-01"])
def test_query_instant_is_refused_with_the_years_rule_when_outside_2000_to_2100(text: str) -> None:
    with pytest.raises(ValueError, match="must lie in the years 2000-2100"):
        parse_local_instant(text, "Asia/Ho_Chi_Minh")


def test_query_instant_is_local_midnight_when_given_as_a_date() -> None:
    assert parse_local_instant("2100-12-31", "Asia/Ho_Chi_Minh").isoformat() == "2100-12-31T00:00:00+07:00"


class _Signature(ContractModel):
    signed_at: AwareDatetime


class _WithPastDates(ContractModel):
    dossier_code: str
    signature: _Signature
    appointment_at: DueDate


def test_other_dates_in_data_follow_the_rule_of_time_when_a_type_carries_them() -> None:
    """Every date of `data` is bounded: past ones like `time`, promised ones by `time` + 10 years (any type
    added later is covered without touching the rules)."""
    data = _WithPastDates(
        dossier_code="HS-1",
        signature=_Signature(signed_at=NOW + timedelta(days=1)),
        appointment_at=NOW + timedelta(days=365 * 11),
    )
    event = CloudEvent(
        specversion="1.0", id="evt-1", source="urn:dvc:test", type=EventType.DOSSIER_PAID, time=NOW, data=data
    )

    errors = time_errors(event, WINDOW)

    assert [location for location, _ in errors] == [("data", "signature", "signed_at"), ("data", "appointment_at")]
    assert errors[1][1] == "is more than 10 years after the event's time (at most 2036-12-04T07:00:00Z)"

"""Working-time calendar on real 2026 dates (Asia/Ho_Chi_Minh, 07:30-11:30 and 13:30-17:00)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from services.contracts.catalog import TimeLimit, TimeUnit
from services.indicators.adapters.calendar_file import CalendarFileError, load_overrides
from services.indicators.domain.calendar import (
    CalendarOverrides,
    DayOverride,
    WorkingCalendar,
    build_calendar,
    parse_working_hours,
)
from services.indicators.domain.dossier import fold
from tests.indicators.dossier_helpers import event

VN = timezone(timedelta(hours=7))
DAY = 7.5 * 3600


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN)


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return build_calendar(overrides=load_overrides())


@pytest.mark.parametrize(
    "day",
    [
        "2026-01-01",
        "2026-02-16",
        "2026-02-17",
        "2026-02-18",
        "2026-02-19",
        "2026-02-20",
        "2026-04-27",
        "2026-04-30",
        "2026-05-01",
        "2026-08-31",
        "2026-09-01",
        "2026-09-02",
        "2026-11-24",
    ],
)
def test_day_is_off_when_it_is_a_2026_public_holiday(calendar: WorkingCalendar, day: str) -> None:
    assert not calendar.is_working_day(date.fromisoformat(day))


def test_saturday_is_worked_when_the_government_swapped_it_for_2_september(calendar: WorkingCalendar) -> None:
    assert calendar.is_working_day(date(2026, 8, 22))
    assert not calendar.is_working_day(date(2026, 8, 29))


def test_working_seconds_count_only_office_hours_when_the_span_crosses_lunch_and_night(
    calendar: WorkingCalendar,
) -> None:
    assert calendar.working_seconds_between(at("2026-03-02T08:00"), at("2026-03-02T14:00")) == 4 * 3600
    assert calendar.working_seconds_between(at("2026-03-02T16:00"), at("2026-03-03T08:30")) == 2 * 3600
    assert calendar.working_seconds_between(at("2026-03-02T12:00"), at("2026-03-02T13:00")) == 0


def test_working_seconds_skip_tet_when_the_span_covers_the_lunar_new_year(calendar: WorkingCalendar) -> None:
    # Friday 13 Feb 17:00 -> Monday 23 Feb 07:30: weekend, Tết 16-20 Feb, weekend: no working time at all.
    assert calendar.working_seconds_between(at("2026-02-13T17:00"), at("2026-02-23T07:30")) == 0
    assert calendar.working_days_between(at("2026-02-12T07:30"), at("2026-02-24T07:30")) == 3


def test_adding_working_time_lands_after_the_holidays_when_it_crosses_30_april(calendar: WorkingCalendar) -> None:
    # Wednesday 29 Apr 16:00 + 2 working hours: 1 h on Wednesday, then 30/4, 1/5 and the weekend are off.
    assert calendar.add_working_time(at("2026-04-29T16:00"), 2 * 3600) == at("2026-05-04T08:30")


def test_adding_working_time_ends_at_closing_time_when_it_fills_the_day_exactly(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_time(at("2026-03-02T07:30"), DAY) == at("2026-03-02T17:00")
    assert calendar.add_working_time(at("2026-03-07T10:00"), 0) == at("2026-03-07T10:00")


def test_adding_working_time_crosses_the_year_when_the_span_is_long(calendar: WorkingCalendar) -> None:
    # Thursday 31 Dec 2026 16:00 + 2 h: 1 h left in 2026, 1 Jan 2027 is a holiday, Saturday 2 Jan is off.
    result = calendar.add_working_time(at("2026-12-31T16:00"), 2 * 3600)
    assert result == at("2027-01-04T08:30")
    assert calendar.working_seconds_between(at("2026-12-31T16:00"), result) == 2 * 3600


def test_due_date_counts_working_days_when_the_limit_is_in_working_days(calendar: WorkingCalendar) -> None:
    accepted = at("2026-02-12T10:00")  # Thursday before Tết
    due = calendar.due_at_for(accepted, TimeLimit(value=3, unit=TimeUnit.WORKING_DAYS))
    assert due == at("2026-02-24T10:00")
    assert calendar.due_at_for(accepted, TimeLimit(value=8, unit=TimeUnit.WORKING_HOURS)) == at("2026-02-13T10:30")
    assert calendar.due_at_for(accepted, TimeLimit(value=10, unit=TimeUnit.DAYS)) == at("2026-02-22T10:00")


def test_extra_holiday_and_worked_saturday_apply_when_the_override_file_lists_them(tmp_path: Path) -> None:
    file = tmp_path / "overrides.yaml"
    file.write_text(
        'version: "test"\nholidays:\n  - date: 2026-03-04\n    name: "Nghỉ theo quyết định của tỉnh"\n'
        'working_days:\n  - date: 2026-03-07\n    name: "Làm bù"\n',
        encoding="utf-8",
    )
    overrides = load_overrides(file)
    calendar = build_calendar(overrides=overrides)
    assert overrides.version == "test"
    assert not calendar.is_working_day(date(2026, 3, 4))
    assert calendar.is_working_day(date(2026, 3, 7))
    assert calendar.working_days_between(at("2026-03-02T07:30"), at("2026-03-09T07:30")) == 5


def test_override_file_is_rejected_with_its_name_when_a_date_is_malformed(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text("holidays:\n  - date: 2026-02-30\n    name: x\n", encoding="utf-8")
    with pytest.raises(CalendarFileError, match=r"bad\.yaml"):
        load_overrides(file)


def test_custom_hours_apply_when_the_commune_configures_a_single_period() -> None:
    calendar = build_calendar(
        working_hours="08:00-12:00",
        overrides=CalendarOverrides(holidays=[DayOverride(date=date(2026, 3, 3), name="Nghỉ")]),
    )
    assert calendar.day_seconds == 4 * 3600
    assert calendar.working_seconds_between(at("2026-03-02T11:00"), at("2026-03-04T09:00")) == 2 * 3600


def test_working_hours_are_rejected_when_periods_overlap() -> None:
    with pytest.raises(ValueError, match="overlap"):
        parse_working_hours("07:30-12:00,11:00-17:00")


def test_new_year_break_is_moved_when_the_government_swapped_2_january_for_10_january_2026(
    calendar: WorkingCalendar,
) -> None:
    assert not calendar.is_working_day(date(2026, 1, 2))
    assert calendar.is_working_day(date(2026, 1, 10))
    assert not calendar.is_working_day(date(2026, 1, 17))


def test_pause_across_2_january_extends_the_due_time_by_one_working_day_when_the_friday_is_off(
    calendar: WorkingCalendar,
) -> None:
    # Paused Wed 31/12/2025 08:00 -> Mon 05/01/2026 08:00: 7 h on 31/12, 1/1 and 2/1 off, 30 min on 5/1.
    state = fold(
        [
            event("dossier.accepted", "2025-12-29T08:00:00+07:00", due_at="2026-01-07T17:00:00+07:00"),
            event("dossier.supplement_requested", "2025-12-31T08:00:00+07:00"),
            event("dossier.supplement_received", "2026-01-05T08:00:00+07:00"),
        ],
        calendar,
    )
    assert state is not None
    assert state.paused_seconds == DAY
    assert state.extended_due_at == at("2026-01-08T17:00")


def test_pause_across_10_january_counts_the_saturday_when_it_is_worked(calendar: WorkingCalendar) -> None:
    # Paused Fri 09/01 08:00 -> Mon 12/01 08:00: 7 h on 9/1, the whole Saturday 10/1, 30 min on 12/1.
    state = fold(
        [
            event("dossier.accepted", "2026-01-06T08:00:00+07:00", due_at="2026-01-13T17:00:00+07:00"),
            event("dossier.supplement_requested", "2026-01-09T08:00:00+07:00"),
            event("dossier.supplement_received", "2026-01-12T08:00:00+07:00"),
        ],
        calendar,
    )
    assert state is not None
    assert state.paused_seconds == 2 * DAY
    assert state.extended_due_at == at("2026-01-15T17:00")


def test_every_override_names_its_source_when_the_packaged_file_is_loaded() -> None:
    overrides = load_overrides()
    entries = [*overrides.holidays, *overrides.working_days]
    assert {entry.date for entry in entries} >= {date(2026, 1, 2), date(2026, 1, 10)}
    assert all(entry.source for entry in entries)


def test_calendar_show_lists_days_off_and_days_worked_with_sources_when_asked_for_2026() -> None:
    from services.indicators.entrypoints.cli import TOP_LEVEL_GROUPS

    root = typer.Typer()
    root.add_typer(TOP_LEVEL_GROUPS["calendar"], name="calendar")
    result = CliRunner().invoke(root, ["calendar", "show", "2026"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("02/01/2026 Thứ Sáu") and "nghỉ" in line and "25/12/2025" in line for line in lines)
    assert any(line.startswith("10/01/2026 Thứ Bảy") and "làm việc" in line for line in lines)
    assert any(line.startswith("24/11/2026") and "Ngày Văn hóa Việt Nam" in line for line in lines)
    assert lines[-1] == "2026: 14 weekdays off, 2 weekend days worked"

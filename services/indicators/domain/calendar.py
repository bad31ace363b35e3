"""Working-time calendar (design §4): pure arithmetic over working seconds.

A working day has working periods (default 07:30-11:30 and 13:30-17:00, local time). Working days are
Monday-Friday minus public holidays (the `holidays` package's VN calendar, lunar Tết included) plus the
commune's versioned overrides (extra holidays, and weekend days worked to bridge a holiday).

Every function takes and returns aware datetimes; local time is the calendar's time zone. Arithmetic
is O(1) per call after a per-year table is built lazily: `working_seconds_between` subtracts two
cumulative positions and `add_working_time` bisects one year's table.

Stable API (indicators-B builds on it): `WorkingCalendar.working_seconds_between`,
`WorkingCalendar.add_working_time`, `WorkingCalendar.working_days_between`,
`WorkingCalendar.time_limit_seconds`, `WorkingCalendar.due_at_for`, `WorkingCalendar.is_working_day`,
`WorkingCalendar.day_seconds`, `build_calendar`, `CalendarOverrides`, `parse_working_hours`.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated, Protocol
from zoneinfo import ZoneInfo

import holidays
from pydantic import BaseModel, ConfigDict, Field

from services.contracts.catalog import TimeLimit, TimeUnit

DEFAULT_WORKING_HOURS = "07:30-11:30,13:30-17:00"
WorkingPeriod = tuple[int, int]  # seconds since local midnight: [start, end)


class WorkingClock(Protocol):
    """What the dossier fold needs from a calendar (lets tests pass a simpler clock)."""

    def working_seconds_between(self, start: datetime, end: datetime) -> float: ...

    def add_working_time(self, start: datetime, seconds: float) -> datetime: ...


class DayOverride(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    date: date
    name: Annotated[str, Field(min_length=1, max_length=300)]
    source: Annotated[str, Field(min_length=1, max_length=500)] | None = None  # the act or letter deciding it


class CalendarOverrides(BaseModel):
    """The commune-edited override file (YAML): `version`, `holidays` (extra days off) and `working_days`
    (days worked although weekend or holiday, e.g. a Saturday worked to bridge a holiday)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Annotated[str, Field(min_length=1, max_length=100)] = "none"
    holidays: list[DayOverride] = Field(default_factory=list)
    working_days: list[DayOverride] = Field(default_factory=list)


def parse_working_hours(text: str) -> tuple[WorkingPeriod, ...]:
    """`"07:30-11:30,13:30-17:00"` -> ((27000, 41400), (48600, 61200)); raises ValueError if malformed."""
    periods: list[WorkingPeriod] = []
    for part in text.split(","):
        start_text, separator, end_text = part.strip().partition("-")
        if not separator:
            raise ValueError(f"working period {part.strip()!r} is not HH:MM-HH:MM")
        start, end = _seconds_of_day(time.fromisoformat(start_text)), _seconds_of_day(time.fromisoformat(end_text))
        if end <= start:
            raise ValueError(f"working period {part.strip()!r} ends before it starts")
        periods.append((start, end))
    periods.sort()
    for (_, previous_end), (next_start, _) in itertools.pairwise(periods):
        if next_start < previous_end:
            raise ValueError(f"working periods overlap in {text!r}")
    if not periods:
        raise ValueError("no working period given")
    return tuple(periods)


def _seconds_of_day(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


class WorkingCalendar:
    """Working-time arithmetic for one time zone, one set of daily periods and one working-day rule."""

    def __init__(
        self, timezone: tzinfo, periods: Sequence[WorkingPeriod], is_working_day: Callable[[date], bool]
    ) -> None:
        self.timezone = timezone
        self.periods = tuple(periods)
        self._is_working_day = is_working_day
        self.day_seconds = float(sum(end - start for start, end in self.periods))
        # year -> (cumulative working seconds at the END of each day of the year, 0-based by day of year)
        self._years: dict[int, list[float]] = {}

    def is_working_day(self, day: date) -> bool:
        return self._is_working_day(day)

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Working seconds in [start, end); negative when end is before start."""
        if end < start:
            return -self.working_seconds_between(end, start)
        start_year, start_position = self._position(start)
        end_year, end_position = self._position(end)
        if start_year == end_year:
            return end_position - start_position
        total = self._year_table(start_year)[-1] - start_position + end_position
        for year in range(start_year + 1, end_year):
            total += self._year_table(year)[-1]
        return total

    def add_working_time(self, start: datetime, seconds: float) -> datetime:
        """The earliest instant at which `seconds` of working time have passed since `start`.

        `add_working_time(t, 0)` is `t`. A result that lands exactly at the end of a working day is that
        day's closing time (17:00), not the next morning. Raises ValueError for negative `seconds`.
        """
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        if seconds == 0:
            return start
        year, position = self._position(start)
        target = position + seconds
        table = self._year_table(year)
        while target > table[-1]:
            target -= table[-1]
            year += 1
            table = self._year_table(year)
            if year > start.year + 200:
                raise ValueError("no working time within 200 years: check the calendar")
        day_index = bisect.bisect_left(table, target)
        day = date(year, 1, 1) + timedelta(days=day_index)
        before = table[day_index - 1] if day_index else 0.0
        return self._instant_in_day(day, target - before).astimezone(start.tzinfo)

    def working_days_between(self, start: datetime, end: datetime) -> float:
        """Working time between two instants in working days (fractional)."""
        return self.working_seconds_between(start, end) / self.day_seconds

    def time_limit_seconds(self, limit: TimeLimit) -> float:
        """Working seconds allowed by a working-day or working-hour limit (a calendar-day limit has none)."""
        if limit.unit is TimeUnit.WORKING_DAYS:
            return limit.value * self.day_seconds
        if limit.unit is TimeUnit.WORKING_HOURS:
            return limit.value * 3600.0
        raise ValueError("a calendar-day limit is not measured in working time")

    def due_at_for(self, start: datetime, limit: TimeLimit) -> datetime:
        """Due instant of a procedure's time limit counted from `start` (e.g. acceptance)."""
        if limit.unit is TimeUnit.DAYS:
            return start + timedelta(days=limit.value)
        return self.add_working_time(start, self.time_limit_seconds(limit))

    def _position(self, instant: datetime) -> tuple[int, float]:
        """(year, working seconds from the start of that local year to `instant`)."""
        if instant.tzinfo is None:
            raise ValueError("naive datetime: calendar arithmetic needs an aware instant")
        local = instant.astimezone(self.timezone)
        day = local.date()
        table = self._year_table(day.year)
        index = day.timetuple().tm_yday - 1
        before = table[index - 1] if index else 0.0
        if table[index] == before:  # not a working day (the table adds nothing for it)
            return day.year, before
        second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1_000_000
        within = 0.0
        for start, end in self.periods:
            if second <= start:
                break
            within += min(second, end) - start
        return day.year, before + within

    def _instant_in_day(self, day: date, seconds: float) -> datetime:
        remaining = seconds
        for start, end in self.periods:
            length = end - start
            if remaining <= length:
                midnight = datetime(day.year, day.month, day.day, tzinfo=self.timezone)
                return midnight + timedelta(seconds=start + remaining)
            remaining -= length
        raise AssertionError("position beyond the working day")

    def _year_table(self, year: int) -> list[float]:
        table = self._years.get(year)
        if table is None:
            table = []
            total = 0.0
            day = date(year, 1, 1)
            while day.year == year:
                if self._is_working_day(day):
                    total += self.day_seconds
                table.append(total)
                day += timedelta(days=1)
            self._years[year] = table
        return table


@dataclass(frozen=True)
class CalendarDay:
    """A day whose status departs from Monday-Friday: `working` True for a weekend day worked."""

    day: date
    working: bool
    name: str
    source: str


class WorkingDays:
    """Monday-Friday minus the country's public holidays and the override file's extra holidays, plus the
    override file's (and the holidays package's) weekend days worked."""

    def __init__(self, overrides: CalendarOverrides, country: str = "VN") -> None:
        self._public = holidays.country_holidays(country, language="vi")
        self._extra_off = {entry.date for entry in overrides.holidays}
        self._extra_on = {entry.date for entry in overrides.working_days}
        self._overrides = {(entry.date, False): entry for entry in overrides.holidays} | {
            (entry.date, True): entry for entry in overrides.working_days
        }

    def __call__(self, day: date) -> bool:
        if day in self._extra_on:
            return True
        if day in self._extra_off:
            return False
        is_holiday = day in self._public  # populates the year, weekend days worked included
        if day.weekday() >= 5:
            return day in self._public.weekend_workdays
        return not is_holiday

    def holiday_name(self, day: date) -> str | None:
        """The public holiday's name in Vietnamese (the holidays package's label; its default language elsewhere)."""
        return self._public.get(day)

    def year_exceptions(self, year: int) -> list[CalendarDay]:
        """Every day of `year` whose working status differs from the Monday-Friday rule, in date order:
        public holidays on weekdays, override days off, and weekend days worked (package or override)."""
        listed: list[CalendarDay] = []
        day = date(year, 1, 1)
        while day.year == year:
            weekday = day.weekday() < 5
            if self(day) != weekday:
                listed.append(self._describe(day, working=not weekday))
            day += timedelta(days=1)
        return listed

    def _describe(self, day: date, *, working: bool) -> CalendarDay:
        chosen = self._overrides.get((day, working))
        if chosen is not None:
            return CalendarDay(day, working, chosen.name, chosen.source or "override file")
        name = self._public.get(day) or ("Ngày làm bù" if working else "Ngày nghỉ")
        return CalendarDay(day, working, name, "holidays package (VN)")


def build_calendar(
    timezone: str = "Asia/Ho_Chi_Minh",
    working_hours: str = DEFAULT_WORKING_HOURS,
    overrides: CalendarOverrides | None = None,
    country: str = "VN",
) -> WorkingCalendar:
    """The calendar a service uses: settings' time zone and hours, the country's holidays, the overrides."""
    working_days = WorkingDays(overrides or CalendarOverrides(), country)
    return WorkingCalendar(ZoneInfo(timezone), parse_working_hours(working_hours), working_days)

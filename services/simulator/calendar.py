"""Working-time arithmetic for the simulator (design §4), independent of any service's code.

`LegalCalendar` is the official calendar (Monday-Friday, 07:30-11:30 and 13:30-17:00 local time, minus the
`holidays` package's VN public holidays, plus the weekend days it lists as worked). `AlwaysOpen` is the
"office never closes" clock used for the compressed live demo traffic (every second is working time).
Both answer the two questions the generator asks: how much working time lies between two instants, and
when a given amount of working time has passed.
"""

from __future__ import annotations

import bisect
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays

DEFAULT_PERIODS: tuple[tuple[time, time], ...] = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
VN_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# Swaps the government announced that the holidays package does not know (New Year 2026, official letter of
# 25/12/2025): Friday 2/1 off, Saturday 10/1 worked. The indicators service reads the same facts from its
# override file; the simulator keeps its own copy so that its ground truth stays independent of that file.
ANNOUNCED_DAYS_OFF: frozenset[date] = frozenset({date(2026, 1, 2)})
ANNOUNCED_DAYS_WORKED: frozenset[date] = frozenset({date(2026, 1, 10)})


class Clock(Protocol):
    timezone: tzinfo

    def working_seconds_between(self, start: datetime, end: datetime) -> float: ...

    def add_working_time(self, start: datetime, seconds: float) -> datetime: ...

    def is_working_instant(self, instant: datetime) -> bool: ...


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


class LegalCalendar:
    """Working time of the commune: periods per working day, VN public holidays excluded."""

    def __init__(
        self,
        timezone: tzinfo = VN_TIMEZONE,
        periods: tuple[tuple[time, time], ...] = DEFAULT_PERIODS,
        extra_holidays: frozenset[date] = ANNOUNCED_DAYS_OFF,
        extra_working_days: frozenset[date] = ANNOUNCED_DAYS_WORKED,
    ) -> None:
        self.timezone = timezone
        self.periods = tuple((_seconds(start), _seconds(end)) for start, end in periods)
        self.day_seconds = float(sum(end - start for start, end in self.periods))
        self._public = holidays.country_holidays("VN")
        self._extra_off = extra_holidays
        self._extra_on = extra_working_days
        self._ordinals: dict[int, list[float]] = {}  # year -> cumulative working seconds at each day's end

    def is_working_day(self, day: date) -> bool:
        if day in self._extra_on:
            return True
        if day in self._extra_off:
            return False
        is_holiday = day in self._public
        if day.weekday() >= 5:
            return day in self._public.weekend_workdays
        return not is_holiday

    def holiday_name(self, day: date) -> str | None:
        name = self._public.get(day)
        return None if name is None else str(name)

    def is_working_instant(self, instant: datetime) -> bool:
        """True inside a working period of a working day (both period edges included)."""
        local = instant.astimezone(self.timezone)
        if not self.is_working_day(local.date()):
            return False
        second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return any(start <= second <= end for start, end in self.periods)

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        if end < start:
            return -self.working_seconds_between(end, start)
        start_local, end_local = start.astimezone(self.timezone), end.astimezone(self.timezone)
        total = self._position_in_year(end_local) - self._position_in_year(start_local)
        for year in range(start_local.year, end_local.year):
            total += self._table(year)[-1]
        return total

    def add_working_time(self, start: datetime, seconds: float) -> datetime:
        """The earliest instant at which `seconds` of working time have passed since `start`."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        if seconds == 0:
            return start
        local = start.astimezone(self.timezone)
        year = local.year
        target = self._position_in_year(local) + seconds
        table = self._table(year)
        while target > table[-1]:
            target -= table[-1]
            year += 1
            table = self._table(year)
        index = bisect.bisect_left(table, target)
        remaining = target - (table[index - 1] if index else 0.0)
        day = date(year, 1, 1) + timedelta(days=index)
        for period_start, period_end in self.periods:
            length = period_end - period_start
            if remaining <= length:
                midnight = datetime(day.year, day.month, day.day, tzinfo=self.timezone)
                return (midnight + timedelta(seconds=period_start + remaining)).astimezone(start.tzinfo)
            remaining -= length
        raise AssertionError("position beyond the working day")

    def next_working_instant(self, instant: datetime) -> datetime:
        """`instant` itself when it is working time, otherwise the start of the next working period."""
        if self.is_working_instant(instant):
            return instant
        return self.add_working_time(instant, 1.0) - timedelta(seconds=1)

    def _position_in_year(self, local: datetime) -> float:
        day = local.date()
        table = self._table(day.year)
        index = day.timetuple().tm_yday - 1
        before = table[index - 1] if index else 0.0
        if not self.is_working_day(day):
            return before
        second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return before + sum(max(0.0, min(second, end) - start) for start, end in self.periods)

    def _table(self, year: int) -> list[float]:
        table = self._ordinals.get(year)
        if table is None:
            table, total, day = [], 0.0, date(year, 1, 1)
            while day.year == year:
                total += self.day_seconds if self.is_working_day(day) else 0.0
                table.append(total)
                day += timedelta(days=1)
            self._ordinals[year] = table
        return table


class AlwaysOpen:
    """Every second is working time: the clock of the compressed live demo traffic."""

    def __init__(self, timezone: tzinfo = VN_TIMEZONE) -> None:
        self.timezone = timezone

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        return (end - start).total_seconds()

    def add_working_time(self, start: datetime, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        return start + timedelta(seconds=seconds)

    def is_working_instant(self, instant: datetime) -> bool:
        return True

    def next_working_instant(self, instant: datetime) -> datetime:
        return instant

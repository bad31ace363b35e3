"""Report periods: `2026` (the year), `2026-H1`/`H2`, `2026-Q1`..`Q4`, `2026-05` (a month), or `[from, to)` dates,
always inside the plan's year. A report for a period shows what was known at its end."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_PERIOD = re.compile(r"^(\d{4})(?:-(H[12]|Q[1-4]|\d{2}))?$")
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


class PeriodError(ValueError):
    """A period the report cannot cover; `field` names the parameter."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class ReportPeriod:
    start: date  # first day
    end: date  # the day after the last one
    label: str  # Vietnamese, for the report's title

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end.toordinal() - 1)


def _month_after(year: int, month: int) -> date:
    return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)


def parse_period(text: str, plan_year: int) -> ReportPeriod:
    """`2026-Q1` -> 1/1/2026 to 31/3/2026, "Quý I/2026"; raises PeriodError naming `period`."""
    match = _PERIOD.match(text.strip())
    if match is None:
        raise PeriodError("period", "not a period such as 2026, 2026-H1, 2026-Q2 or 2026-05")
    year, part = int(match.group(1)), match.group(2)
    if year != plan_year:
        raise PeriodError("period", f"outside the plan's year {plan_year}")
    if part is None:
        return ReportPeriod(date(year, 1, 1), date(year + 1, 1, 1), f"Năm {year}")
    if part.startswith("H"):
        half = int(part[1])
        start = date(year, 1 if half == 1 else 7, 1)
        label = f"6 tháng đầu năm {year}" if half == 1 else f"6 tháng cuối năm {year}"
        return ReportPeriod(start, _month_after(year, 6 * half), label)
    if part.startswith("Q"):
        quarter = int(part[1])
        start = date(year, 3 * quarter - 2, 1)
        return ReportPeriod(start, _month_after(year, 3 * quarter), f"Quý {_ROMAN[quarter]}/{year}")
    month = int(part)
    if not 1 <= month <= 12:
        raise PeriodError("period", "the month must be 01 to 12")
    return ReportPeriod(date(year, month, 1), _month_after(year, month), f"Tháng {month:02d}/{year}")


def dates_period(start: date | None, end: date | None, plan_year: int) -> ReportPeriod:
    """`[from, to)` inside the plan's year (either bound may be left to the year's); raises PeriodError."""
    first, after = date(plan_year, 1, 1), date(plan_year + 1, 1, 1)
    chosen_start, chosen_end = start or first, end or after
    if not first <= chosen_start < after:
        raise PeriodError("from", f"outside the plan's year {plan_year}")
    if not first < chosen_end <= after:
        latest = f"01/01/{plan_year + 1}"
        raise PeriodError("to", f"outside the plan's year {plan_year} (the day after the last one: {latest} at most)")
    if chosen_end <= chosen_start:
        raise PeriodError("to", "must be after 'from'")
    last = date.fromordinal(chosen_end.toordinal() - 1)
    return ReportPeriod(chosen_start, chosen_end, f"Từ {chosen_start:%d/%m/%Y} đến {last:%d/%m/%Y}")


@dataclass(frozen=True)
class PeriodRequest:
    """What the caller asked for: a period name, or dates, or nothing (the report as it stands now)."""

    period: str | None = None
    start: date | None = None
    end: date | None = None

    def resolve(self, plan_year: int) -> ReportPeriod | None:
        if self.period is not None and (self.start is not None or self.end is not None):
            raise PeriodError("period", "give either a period or from/to, not both")
        if self.period is not None:
            return parse_period(self.period, plan_year)
        if self.start is None and self.end is None:
            return None
        return dates_period(self.start, self.end, plan_year)

"""Time bounds shared by every service: dates a person or a system may give us, and how far apart they may be.

Any date read from outside (an API query, a request body) lies in the years 2000-2100: older or later values are
typing mistakes, and values near year 1 or 9999 overflow as soon as they are moved to UTC or shifted by a day.
Event times have tighter rules, relative to the clock, applied by the ingest (`docs/events.md`); a field marked
`Promised` (a due date) is a date promised for the future, bounded by the event's own time instead of the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime, Field

FIRST_YEAR = 2000
LAST_YEAR = 2100
EARLIEST_EVENT_TIME = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
YEARS_REASON = f"must lie in the years {FIRST_YEAR}-{LAST_YEAR}"

Moment = TypeVar("Moment", bound=date)


def check_year(value: Moment) -> Moment:
    """`value` unchanged if its year is within FIRST_YEAR-LAST_YEAR, else ValueError (a pydantic 422)."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(YEARS_REASON)
    return value


BoundedDate = Annotated[date, AfterValidator(check_year), Field(description=f"A date in {FIRST_YEAR}-{LAST_YEAR}")]


def parse_local_instant(text: str, timezone: str) -> datetime:
    """A query parameter: an ISO date (local midnight) or date-time (local time when it has no offset), in the
    years FIRST_YEAR-LAST_YEAR. ValueError with the reason otherwise."""
    zone = ZoneInfo(timezone)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            instant = datetime(day.year, day.month, day.day, tzinfo=zone)
        else:
            instant = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not an ISO 8601 date or date-time") from None
    check_year(instant)
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=zone)


@dataclass(frozen=True)
class Promised:
    """Metadata of a date promised for the future (a due date): at or after the event's `time` and at most the
    ingest's horizon (10 years by default) after it, however far from the clock."""


DueDate = Annotated[
    AwareDatetime,
    Promised(),
    Field(description="A promised date, RFC 3339 with offset: not before the event's `time`, at most 10 years after"),
]

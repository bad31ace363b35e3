"""Plausible times: what the ingest refuses although the contract's types accept it.

An event's `time` lies in [earliest, now + tolerance]: an event dated in the future would be shown to citizens
(an SMS with a due date years ahead) and, since later times win in the projections, would freeze a dossier's
state. A promised date (a due date, marked `Promised` in the contract) lies in [time, time + horizon]. Every
other date in `data` follows the rule of `time`. Pure: the caller gives the clock's reading (`TimeRules.window`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from typing import get_args

from pydantic import AwareDatetime, BaseModel, NaiveDatetime

from services.contracts.events import CloudEvent
from services.contracts.timebounds import EARLIEST_EVENT_TIME, Promised

Location = tuple[str, ...]
_SHORTEST_YEAR = 365 * 86_400.0  # seconds; any `years` calendar years last at least `years` times this


@dataclass(frozen=True)
class TimeWindow:
    """The rules at one reading of the clock; the bounds also as POSIX timestamps, for fast comparisons."""

    earliest: datetime
    latest: datetime
    tolerance: timedelta
    horizon_years: int

    @cached_property
    def bounds(self) -> tuple[float, float]:
        return self.earliest.timestamp(), self.latest.timestamp()


@dataclass(frozen=True)
class TimeRules:
    earliest: datetime = EARLIEST_EVENT_TIME
    future_tolerance: timedelta = timedelta(minutes=5)
    horizon_years: int = 10

    def window(self, now: datetime) -> TimeWindow:
        return TimeWindow(self.earliest, now + self.future_tolerance, self.future_tolerance, self.horizon_years)


def time_errors(event: CloudEvent, window: TimeWindow) -> list[tuple[Location, str]]:
    """(location, reason) of every date of `event` outside the window; [] when all are plausible.

    Dates are compared as timestamps: one `utcoffset()` per date, where an aware comparison calls it on both
    sides (slow with pydantic's tzinfo), and no overflow near year 1 or 9999."""
    errors: list[tuple[Location, str]] = []
    earliest, latest = window.bounds
    time_stamp = event.time.timestamp()
    time_accepted = earliest <= time_stamp <= latest
    if not time_accepted:
        errors.append((("time",), _instant_error(event.time, window, "an event's time is when it happened")))
    if not _plan(type(event.data)):
        return errors
    for location, value, promised in _dates(event.data, ("data",)):
        stamp = value.timestamp()
        if not promised:
            if not earliest <= stamp <= latest:
                errors.append((location, _instant_error(value, window, "a date in `data` is one that has passed")))
        elif time_accepted:  # a promise is judged against the event's time, only once that is accepted
            reason = _promise_error(value, stamp, event.time, time_stamp, window.horizon_years)
            if reason is not None:
                errors.append((location, reason))
    return errors


def _instant_error(value: datetime, window: TimeWindow, meaning: str) -> str:
    if value < window.earliest:
        return f"is before {_text(window.earliest)}, the earliest date accepted"
    tolerance = int(window.tolerance.total_seconds())
    return f"is after {_text(window.latest)} (the ingest's clock plus {tolerance} s): {meaning}, never in the future"


def _promise_error(value: datetime, stamp: float, time: datetime, time_stamp: float, years: int) -> str | None:
    if stamp < time_stamp:
        return f"is before the event's time {_text(time)}: a due date is promised at or after the event"
    if stamp <= time_stamp + years * _SHORTEST_YEAR:
        return None
    latest = add_years(time, years)
    if value > latest:
        return f"is more than {years} years after the event's time (at most {_text(latest)})"
    return None


def add_years(moment: datetime, years: int) -> datetime:
    """The same calendar instant `years` later (29 February -> 28 February), capped at the last representable."""
    year = min(moment.year + years, datetime.max.year)
    try:
        return moment.replace(year=year)
    except ValueError:
        return moment.replace(year=year, day=28)


def _dates(model: BaseModel, location: Location) -> Iterator[tuple[Location, datetime, bool]]:
    for name, promised, nested in _plan(type(model)):
        value = getattr(model, name)
        if nested:
            if isinstance(value, BaseModel):
                yield from _dates(value, (*location, name))
        elif isinstance(value, datetime):
            yield (*location, name), value, promised


@lru_cache(maxsize=128)
def _plan(model: type[BaseModel]) -> tuple[tuple[str, bool, bool], ...]:
    """(field, promised, nested model) of the fields that hold or may contain a date; () for most models."""
    plan = []
    for name, info in model.model_fields.items():
        kinds = get_args(info.annotation) or (info.annotation,)
        if any(isinstance(kind, type) and issubclass(kind, BaseModel) and _plan(kind) for kind in kinds):
            plan.append((name, False, True))
        elif any(
            isinstance(kind, type) and issubclass(kind, datetime | AwareDatetime | NaiveDatetime) for kind in kinds
        ):
            plan.append((name, any(isinstance(metadata, Promised) for metadata in info.metadata), False))
    return tuple(plan)


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

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
from functools import lru_cache

from pydantic import BaseModel

from services.contracts.events import CloudEvent
from services.contracts.timebounds import EARLIEST_EVENT_TIME, Promised

Location = tuple[str, ...]


@dataclass(frozen=True)
class TimeWindow:
    """The rules at one reading of the clock."""

    earliest: datetime
    latest: datetime
    tolerance: timedelta
    horizon_years: int


@dataclass(frozen=True)
class TimeRules:
    earliest: datetime = EARLIEST_EVENT_TIME
    future_tolerance: timedelta = timedelta(minutes=5)
    horizon_years: int = 10

    def window(self, now: datetime) -> TimeWindow:
        return TimeWindow(self.earliest, now + self.future_tolerance, self.future_tolerance, self.horizon_years)


def time_errors(event: CloudEvent, window: TimeWindow) -> list[tuple[Location, str]]:
    """(location, reason) of every date of `event` outside the window; [] when all are plausible."""
    errors: list[tuple[Location, str]] = []
    time_reason = _instant_error(event.time, window, "an event's time is when it happened")
    if time_reason is not None:
        errors.append((("time",), time_reason))
    for location, value, promised in _dates(event.data, ("data",)):
        if not promised:
            reason = _instant_error(value, window, "a date in `data` is one that has passed")
        elif time_reason is None:
            reason = _promise_error(value, event.time, window.horizon_years)
        else:
            continue  # a promise is judged against the event's time, which is already refused
        if reason is not None:
            errors.append((location, reason))
    return errors


def _instant_error(value: datetime, window: TimeWindow, meaning: str) -> str | None:
    if value < window.earliest:
        return f"is before {_text(window.earliest)}, the earliest date accepted"
    if value > window.latest:
        tolerance = int(window.tolerance.total_seconds())
        return (
            f"is after {_text(window.latest)} (the ingest's clock plus {tolerance} s): {meaning}, never in the future"
        )
    return None


def _promise_error(value: datetime, time: datetime, horizon_years: int) -> str | None:
    if value < time:
        return f"is before the event's time {_text(time)}: a due date is promised at or after the event"
    latest = add_years(time, horizon_years)
    if value > latest:
        return f"is more than {horizon_years} years after the event's time (at most {_text(latest)})"
    return None


def add_years(moment: datetime, years: int) -> datetime:
    """The same calendar instant `years` later (29 February -> 28 February), capped at the last representable."""
    year = min(moment.year + years, datetime.max.year)
    try:
        return moment.replace(year=year)
    except ValueError:
        return moment.replace(year=year, day=28)


def _dates(model: BaseModel, location: Location) -> Iterator[tuple[Location, datetime, bool]]:
    promised = _promised_fields(type(model))
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, datetime):
            yield (*location, name), value, name in promised
        elif isinstance(value, BaseModel):
            yield from _dates(value, (*location, name))


@lru_cache(maxsize=128)
def _promised_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(
        name
        for name, info in model.model_fields.items()
        if any(isinstance(metadata, Promised) for metadata in info.metadata)
    )


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

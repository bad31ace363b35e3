"""How far a consumer got in DVC_EVENTS: stored with the projections, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class StreamPosition:
    consumer: str
    stream_sequence: int = 0
    events_applied: int = 0
    last_event_time: datetime | None = None
    updated_at: datetime | None = None


def advance(
    position: StreamPosition | None,
    consumer: str,
    *,
    last_sequence: int | None,
    new_events: int,
    last_time: datetime | None,
    now: datetime,
) -> StreamPosition:
    """Never moves back: a replayed or redelivered batch keeps the highest sequence and event time seen."""
    current = position or StreamPosition(consumer)
    sequence = current.stream_sequence if last_sequence is None else max(current.stream_sequence, last_sequence)
    event_time = current.last_event_time
    if last_time is not None and (event_time is None or last_time > event_time):
        event_time = last_time
    return StreamPosition(consumer, sequence, current.events_applied + new_events, event_time, now)

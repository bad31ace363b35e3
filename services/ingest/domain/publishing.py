"""What the ingest needs from the event log, independent of NATS."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import orjson

from services.contracts.events import CloudEvent, EventType

UNKNOWN_TYPE = "unknown"
_SHORT_NAMES = {event_type.value: event_type.short_name for event_type in EventType}


class Ack(NamedTuple):
    """JetStream's acknowledgement of one event: where it is stored, or that it was already there."""

    stream_sequence: int
    duplicate: bool


class Unavailable(Exception):
    """The event log did not acknowledge every event (unreachable, timeout, stream missing)."""


class TooLarge(Exception):
    """Some events are larger than one message of the event log may be; nothing was published.

    `sizes` maps the index of each such event to its size as stored (its JSON, in bytes); `limit` is the largest
    size accepted, `max_payload` the NATS server's limit it derives from."""

    def __init__(self, sizes: dict[int, int], limit: int, max_payload: int) -> None:
        super().__init__(f"{len(sizes)} event(s) over the {limit}-byte limit of an event")
        self.sizes = sizes
        self.limit = limit
        self.max_payload = max_payload


def short_type(event_type: object) -> str:
    """Bounded metric label: `dossier.accepted`, or `unknown` for anything outside the catalogue."""
    return _SHORT_NAMES.get(event_type, UNKNOWN_TYPE) if isinstance(event_type, str) else UNKNOWN_TYPE


def count_types(events: Iterable[CloudEvent]) -> Counter[str]:
    by_type = Counter(event.type for event in events)
    return Counter({_SHORT_NAMES[event_type]: count for event_type, count in by_type.items()})


def count_raw_types(body: bytes) -> Counter[str]:
    """Types in a body that failed validation (for metrics): one event or an array; empty if unreadable."""
    try:
        raw: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return Counter()
    items = raw if isinstance(raw, list) else [raw]
    return Counter(short_type(item.get("type")) if isinstance(item, dict) else UNKNOWN_TYPE for item in items)


def result_document(events: Sequence[CloudEvent], acks: Sequence[Ack]) -> dict[str, Any]:
    """The 202 body: `{accepted, duplicates, results: [{id, source, status, stream_sequence}]}`."""
    results = [
        {
            "id": event.id,
            "source": event.source,
            "status": "duplicate" if ack.duplicate else "accepted",
            "stream_sequence": ack.stream_sequence,
        }
        for event, ack in zip(events, acks, strict=True)
    ]
    duplicates = sum(1 for ack in acks if ack.duplicate)
    return {"accepted": len(acks) - duplicates, "duplicates": duplicates, "results": results}

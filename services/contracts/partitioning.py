"""Partitioning of DVC_EVENTS by the entity an event changes (docs/performance.md, "Scaling out").

Ingest publishes each event on `dvc.events.<kind>.<verb>.<key>`, where `<key>` is a subject-safe token of the
entity the indicators projection keys it by (the dossier code for dossier and feedback events, the procedure
code, the document id). The stream's subject transform appends NATS's deterministic partition of that token,
`{{partition(64,3)}}`, so events are stored as `dvc.events.<kind>.<verb>.<key>.<slot>`, slot 0-63. An
indicators partition `p` of `n` is one durable consumer whose filter subjects are the slots `s` with
`s % n == p`: every event of one entity reaches one partition, in stream order, and changing `n` never
changes the stream. Events stored before keys existed (`dvc.events.<kind>.<verb>`) belong to partition 0.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from services.contracts.events import CloudEvent, EventType
from services.contracts.subjects import EVENTS_PREFIX, event_subject

SLOTS = 64
# Partition counts a deployment may use: they divide the slots evenly, and the NATS users table grants the
# indicators user exactly these partitions' durables (services/contracts/nats_users.py)
PARTITION_COUNTS = (1, 2, 4, 8)
KEY_TOKEN = 3  # the wildcard position of the key in the transform's source `dvc.events.*.*.*`
TRANSFORM_SOURCE = f"{EVENTS_PREFIX}.*.*.*"
_WILDCARDS = ".{{wildcard(1)}}.{{wildcard(2)}}.{{wildcard(3)}}"
TRANSFORM_DESTINATION = f"{EVENTS_PREFIX}{_WILDCARDS}.{{{{partition({SLOTS},{KEY_TOKEN})}}}}"
UNKEYED_EVENTS = f"{EVENTS_PREFIX}.*.*"
KEY_FIELDS = ("dossier_code", "procedure_code", "document_id")  # the first one an event's data has
_SUBJECTS: dict[str, str] = {event_type.value: event_subject(event_type) for event_type in EventType}


def entity_key(event: CloudEvent) -> str:
    """The key the indicators projection stores the event under (dossier, procedure or document)."""
    for name in KEY_FIELDS:
        value = getattr(event.data, name, None)
        if isinstance(value, str):
            return value
    return event.subject or ""


@lru_cache(maxsize=8192)
def key_token(key: str) -> str:
    """A subject token for `key` (codes hold dots, which separate subject tokens): 16 hex digits of SHA-256.

    Remembered for the most recent keys: the events of one dossier usually arrive close together."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def keyed_event_subject(event: CloudEvent) -> str:
    return f"{_SUBJECTS[event.type]}.{key_token(entity_key(event))}"


def slot_of(token: str) -> int:
    """NATS's `partition(SLOTS, token)`: FNV-1a (32 bits) of the token, modulo SLOTS."""
    value = 0x811C9DC5
    for byte in token.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value % SLOTS


def partition_of(key: str, partitions: int) -> int:
    """The indicators partition (of `partitions`) that receives the events of entity `key`."""
    return slot_of(key_token(key)) % partitions


def partition_filters(partition: int, partitions: int) -> tuple[str, ...]:
    """Filter subjects of partition `partition` of `partitions` (must be 1..SLOTS)."""
    if not 1 <= partitions <= SLOTS or not 0 <= partition < partitions:
        raise ValueError(f"partition {partition} of {partitions}: partitions must be 1-{SLOTS}, partition 0-(n-1)")
    slots = [f"{EVENTS_PREFIX}.*.*.*.{slot}" for slot in range(SLOTS) if slot % partitions == partition]
    return (*slots, UNKEYED_EVENTS) if partition == 0 else tuple(slots)


def stored_event_subject(event: CloudEvent) -> str:
    """The subject DVC_EVENTS stores `event` under once the transform appended its slot."""
    token = key_token(entity_key(event))
    return f"{_SUBJECTS[event.type]}.{token}.{slot_of(token)}"


def partition_durable(base: str, partition: int, partitions: int) -> str:
    """The durable of partition `partition` of `partitions`; one partition keeps the single consumer's name."""
    return base if partitions == 1 else f"{base}-p{partition}-of-{partitions}"


def partition_durables(base: str) -> tuple[str, ...]:
    return tuple(partition_durable(base, index, count) for count in PARTITION_COUNTS for index in range(count))

"""The four JetStream streams (design §3), declared only by `dvc-pulse streams apply`."""

from __future__ import annotations

from dataclasses import dataclass

from services.contracts import partitioning, subjects

DAY = 86_400.0
# Dead letters hold whole payloads (names, phones): kept long enough to be seen and redriven, no longer
DLQ_RETENTION_DAYS = 30


@dataclass(frozen=True)
class StreamDefinition:
    name: str
    subjects: tuple[str, ...]
    description: str
    max_age_seconds: float
    duplicate_window_seconds: float
    deny_delete: bool = False
    deny_purge: bool = False
    max_bytes: int = -1
    subject_transform: tuple[str, str] | None = None  # (source, destination) applied as messages are stored


EVENTS = StreamDefinition(
    name="DVC_EVENTS",
    subjects=(f"{subjects.EVENTS_PREFIX}.>",),
    description="Validated CloudEvents from producer systems; the system of record, kept for replay",
    max_age_seconds=10 * 365 * DAY,
    duplicate_window_seconds=2 * 3600.0,
    deny_delete=True,
    deny_purge=True,
    subject_transform=(partitioning.TRANSFORM_SOURCE, partitioning.TRANSFORM_DESTINATION),
)
ALERTS = StreamDefinition(
    name="DVC_ALERTS",
    subjects=(f"{subjects.ALERTS_PREFIX}.>", subjects.INDICATORS_SNAPSHOT),
    description="Early warnings, task deadlines and indicator snapshots",
    max_age_seconds=90 * DAY,
    duplicate_window_seconds=2 * 3600.0,
)
NOTIFY = StreamDefinition(
    name="DVC_NOTIFY",
    subjects=(f"{subjects.NOTIFY_PREFIX}.>",),
    description="Notification status events",
    max_age_seconds=90 * DAY,
    duplicate_window_seconds=2 * 3600.0,
)
DLQ = StreamDefinition(
    name="DVC_DLQ",
    subjects=(f"{subjects.DLQ_PREFIX}.>",),
    description="Messages rejected or out of retries, with original subject, sequence, consumer and error",
    max_age_seconds=DLQ_RETENTION_DAYS * DAY,
    duplicate_window_seconds=2 * 3600.0,
)

ALL_STREAMS: tuple[StreamDefinition, ...] = (EVENTS, ALERTS, NOTIFY, DLQ)

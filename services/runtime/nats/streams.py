"""Declare or update the JetStream streams from the contract (`dvc-pulse streams apply`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, SubjectTransform
from nats.js.errors import NotFoundError

from services.contracts.streams import ALL_STREAMS, StreamDefinition


@dataclass(frozen=True)
class StreamChange:
    name: str
    action: str  # "created", "updated", "unchanged"
    details: tuple[str, ...] = ()

    def describe(self) -> str:
        suffix = f": {', '.join(self.details)}" if self.details else ""
        return f"{self.name} {self.action}{suffix}"


_COMPARED_FIELDS = (
    "subjects",
    "max_age",
    "duplicate_window",
    "deny_delete",
    "deny_purge",
    "max_bytes",
    "subject_transform",
)


def stream_config(definition: StreamDefinition, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=definition.name,
        description=definition.description,
        subjects=list(definition.subjects),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=definition.max_age_seconds,
        duplicate_window=definition.duplicate_window_seconds,
        deny_delete=definition.deny_delete,
        deny_purge=definition.deny_purge,
        max_bytes=definition.max_bytes,
        num_replicas=replicas,
        subject_transform=_transform(definition.subject_transform),
    )


def _transform(pair: tuple[str, str] | None) -> SubjectTransform | None:
    return None if pair is None else SubjectTransform(src=pair[0], dest=pair[1])


def _differences(wanted: StreamConfig, current: StreamConfig) -> tuple[str, ...]:
    changed = []
    for field in _COMPARED_FIELDS:
        want, have = getattr(wanted, field), getattr(current, field)
        if field == "subjects":
            want, have = sorted(want or []), sorted(have or [])
        elif isinstance(want, float) or isinstance(have, float):
            want, have = round(float(want or 0), 3), round(float(have or 0), 3)
        if want != have:
            changed.append(f"{field} {have!r} -> {want!r}")
    return tuple(changed)


async def apply_streams(
    js: JetStreamContext, definitions: Iterable[StreamDefinition] = ALL_STREAMS, replicas: int = 1
) -> list[StreamChange]:
    """Idempotent: creates missing streams, updates changed ones, reports what it did."""
    changes = []
    for definition in definitions:
        wanted = stream_config(definition, replicas)
        try:
            info = await js.stream_info(definition.name)
        except NotFoundError:
            await js.add_stream(wanted)
            changes.append(StreamChange(definition.name, "created"))
            continue
        differences = _differences(wanted, info.config)
        if differences:
            await js.update_stream(wanted)
            changes.append(StreamChange(definition.name, "updated", differences))
        else:
            changes.append(StreamChange(definition.name, "unchanged"))
    return changes


async def missing_streams(js: JetStreamContext, names: Sequence[str]) -> list[str]:
    missing = []
    for name in names:
        try:
            await js.stream_info(name)
        except NotFoundError:
            missing.append(name)
    return missing

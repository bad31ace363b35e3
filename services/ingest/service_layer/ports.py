"""What the ingest's use cases need from the outside (keys, the event log, metrics), as Protocols: the adapters
implement them, the unit tests pass in-memory fakes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from services.contracts.events import CloudEvent
from services.ingest.domain.keys import KeySpec
from services.ingest.domain.publishing import Ack
from services.ingest.domain.validation import Reason
from services.runtime.api_keys import KeyRing


class KeySource(Protocol):
    def ring(self) -> KeyRing[KeySpec]: ...


class EventPublisher(Protocol):
    """Publishes every event and returns one ack each, in order; raises TooLarge or Unavailable."""

    async def publish(self, events: Sequence[CloudEvent]) -> list[Ack]: ...


class IngestMetricsPort(Protocol):
    def published(self, ingress: str, accepted: Mapping[str, int], duplicates: Mapping[str, int]) -> None: ...

    def rejected(self, ingress: str, reason: Reason, types: Mapping[str, int]) -> None: ...

    def publish_took(self, ingress: str, seconds: float) -> None: ...

    def portal_record(self, service: str, result: str) -> None: ...

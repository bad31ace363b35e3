"""Use cases of the ingest, shared by HTTP and the NATS request-reply ingress (dependencies passed in)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.contracts.events import CloudEvent
from services.ingest.domain.keys import KeySpec, forbidden_sources
from services.ingest.domain.publishing import (
    TooLarge,
    Unavailable,
    count_raw_types,
    count_types,
    result_document,
)
from services.ingest.domain.time_rules import TimeRules
from services.ingest.domain.validation import Mode, Reason, Rejected, check_times, decode_body, event_too_large
from services.ingest.service_layer.ports import EventPublisher, IngestMetricsPort, KeySource
from services.runtime.api_keys import KeyRefused, Refusal, bearer_token


@dataclass(frozen=True)
class Ingest:
    keys: KeySource
    publisher: EventPublisher
    metrics: IngestMetricsPort
    max_events: int
    retry_after_seconds: int
    time_rules: TimeRules = field(default_factory=TimeRules)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def authenticate(self, authorization: str | None, ingress: str) -> KeySpec:
        token = bearer_token(authorization)
        ring = self.keys.ring()
        try:
            return ring.check(token)
        except KeyRefused as refused:
            self.metrics.rejected(ingress, Reason.UNAUTHORIZED, {})
            if not len(ring):
                detail = "no ingest key is configured: create one with `dvc-pulse ingest keys add`"
            elif refused.reason is Refusal.MISSING:
                detail = "missing credentials: send `Authorization: Bearer <key>`"
            elif refused.reason is Refusal.UNKNOWN:
                detail = "unknown ingest key"
            else:
                detail = f"ingest key {refused.name!r} is {refused.reason.value}"
            raise Rejected(401, Reason.UNAUTHORIZED, detail) from None

    def rejected_early(self, rejection: Rejected, ingress: str) -> Rejected:
        """Count a refusal that happened before the body was decoded (415, 413); returns it to raise."""
        self.metrics.rejected(ingress, rejection.reason, {})
        return rejection

    async def accept(
        self, key: KeySpec, media_type: str | None, attributes: Mapping[str, str], body: bytes, ingress: str
    ) -> dict[str, Any]:
        """Validate the whole body, authorise every source, publish: the 202 document, or raise Rejected."""
        try:
            decoded = decode_body(media_type, body, attributes, max_events=self.max_events)
            check_times(decoded.events, self.time_rules.window(self.clock()), decoded.mode)
        except Rejected as rejection:
            types = count_raw_types(body) if rejection.reason is Reason.INVALID else Counter[str]()
            self.metrics.rejected(ingress, rejection.reason, types)
            raise
        return await self.publish(decoded.events, key, ingress, batch=decoded.mode is Mode.BATCH)

    async def publish(
        self, events: Sequence[CloudEvent], key: KeySpec, ingress: str, *, batch: bool = False
    ) -> dict[str, Any]:
        """Authorise every source, then publish all events and wait for every ack."""
        forbidden = forbidden_sources(key, (event.source for event in events))
        if forbidden:
            self.metrics.rejected(ingress, Reason.FORBIDDEN_SOURCE, count_types(events))
            raise Rejected(
                403,
                Reason.FORBIDDEN_SOURCE,
                f"key {key.name!r} may not send events from source {', '.join(map(repr, forbidden))}; "
                f"it may send: {', '.join(key.sources)}",
                extensions={"forbidden_sources": forbidden},
            )
        started = time.perf_counter()
        try:
            acks = await self.publisher.publish(events)
        except TooLarge as error:
            self.metrics.rejected(ingress, Reason.EVENT_TOO_LARGE, count_types(events))
            raise event_too_large(error.sizes, error.limit, error.max_payload, batch=batch) from None
        except Unavailable as error:
            self.metrics.rejected(ingress, Reason.UNAVAILABLE, count_types(events))
            raise Rejected(
                503,
                Reason.UNAVAILABLE,
                f"the event log is unavailable: {error}. Nothing was acknowledged; resend the same request "
                f"after {self.retry_after_seconds} s (events are deduplicated by source and id)",
                retry_after_seconds=self.retry_after_seconds,
            ) from error
        self.metrics.publish_took(ingress, time.perf_counter() - started)
        if any(ack.duplicate for ack in acks):
            accepted = count_types(event for event, ack in zip(events, acks, strict=True) if not ack.duplicate)
            duplicates = count_types(event for event, ack in zip(events, acks, strict=True) if ack.duplicate)
        else:
            accepted, duplicates = count_types(events), Counter()
        self.metrics.published(ingress, accepted, duplicates)
        return result_document(events, acks)

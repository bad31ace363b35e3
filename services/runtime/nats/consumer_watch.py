"""What every durable consumer did lately, shown on `/metrics` and `/readyz` (one mechanism for all services).

`BatchProcessor` reports to a `ConsumerWatch`: messages received again, messages dead-lettered, batches that
moved on (something applied or dead-lettered) and batches that did not (everything put back for a retry, or
the processing itself raised). After `unready_after` failed batches in a row the consumer is stuck and the
service's `/readyz` answers 503 naming it; the next batch that moves on makes it ready again. A background
task (`ConsumerMonitor.run`) reads each consumer's info from JetStream for the pending gauges.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.errors import Error as JetStreamError
from prometheus_client import CollectorRegistry, Counter, Gauge

from services.runtime.waiting import raise_if_cancelled

logger = logging.getLogger("dvc_pulse.consumer_watch")


class ConsumerMetrics:
    """One family per measure, labelled by durable consumer name, on the service's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["consumer"]
        self.redeliveries = Counter(
            "dvc_consumer_redeliveries_total",
            "Messages received again (JetStream delivery count above 1)",
            labels,
            registry=registry,
        )
        self.dead_lettered = Counter(
            "dvc_consumer_dead_lettered_total", "Messages sent to DVC_DLQ (and acked)", labels, registry=registry
        )
        self.pending = Gauge(
            "dvc_consumer_pending_messages",
            "Messages of the stream not yet delivered to the consumer (JetStream consumer info)",
            labels,
            registry=registry,
        )
        self.ack_pending = Gauge(
            "dvc_consumer_ack_pending_messages",
            "Messages delivered to the consumer and not acknowledged yet (JetStream consumer info)",
            labels,
            registry=registry,
        )
        self.last_applied = Gauge(
            "dvc_consumer_last_applied_timestamp_seconds",
            "Unix time of the consumer's latest batch that applied a message (0: none since start)",
            labels,
            registry=registry,
        )
        self.failed_batches = Gauge(
            "dvc_consumer_failed_batches",
            "Batches in a row that applied nothing (0 once a batch moves on)",
            labels,
            registry=registry,
        )


@dataclass
class ConsumerWatch:
    """One consumer's counters and stuck state; `BatchProcessor` calls it, nothing else needs to."""

    consumer: str
    stream: str
    unready_after: int
    metrics: ConsumerMetrics
    clock: Callable[[], float] = time.time
    failed_batches: int = 0
    last_error: str = ""

    def __post_init__(self) -> None:
        for family in (self.metrics.redeliveries, self.metrics.dead_lettered, self.metrics.failed_batches):
            family.labels(self.consumer)  # the series exist (at 0) before anything happens
        self.metrics.last_applied.labels(self.consumer)

    def received_again(self, count: int) -> None:
        if count:
            self.metrics.redeliveries.labels(self.consumer).inc(count)

    def dead_lettered(self) -> None:
        self.metrics.dead_lettered.labels(self.consumer).inc()

    def batch_moved_on(self, applied: int) -> None:
        if applied:
            self.metrics.last_applied.labels(self.consumer).set(self.clock())
        self.failed_batches = 0
        self.metrics.failed_batches.labels(self.consumer).set(0)

    def batch_failed(self, error: str) -> None:
        self.failed_batches += 1
        self.last_error = error
        self.metrics.failed_batches.labels(self.consumer).set(self.failed_batches)

    @property
    def stuck(self) -> bool:
        return self.failed_batches >= self.unready_after

    def reason(self) -> str:
        return (
            f"consumer {self.consumer} on {self.stream}: {self.failed_batches} batches in a row failed "
            f"(last error: {self.last_error or 'unknown'})"
        )


class ConsumerMonitor:
    """The watches of one service: its `/readyz` check and the refresh of the pending gauges."""

    def __init__(self, registry: CollectorRegistry, *, unready_after: int = 5, refresh_seconds: float = 15.0) -> None:
        self.metrics = ConsumerMetrics(registry)
        self.unready_after = unready_after
        self.refresh_seconds = refresh_seconds
        self.watches: list[ConsumerWatch] = []

    def watch(self, consumer: str, stream: str) -> ConsumerWatch:
        created = ConsumerWatch(consumer, stream, self.unready_after, self.metrics)
        self.watches.append(created)
        return created

    async def check(self) -> str | None:
        """Readiness: None, or which consumers are stuck and why."""
        stuck = [watch.reason() for watch in self.watches if watch.stuck]
        return "; ".join(stuck) or None

    async def refresh(self, client: Client) -> None:
        js = client.jetstream()
        for watch in self.watches:
            try:
                info = await js.consumer_info(watch.stream, watch.consumer, timeout=5.0)
            except (NatsError, JetStreamError, TimeoutError) as error:  # not created yet, or NATS is away
                logger.debug("no consumer info for %s: %s", watch.consumer, error)
                continue
            self.metrics.pending.labels(watch.consumer).set(info.num_pending or 0)
            self.metrics.ack_pending.labels(watch.consumer).set(info.num_ack_pending or 0)

    async def run(self, connection: Callable[[], Client | None]) -> None:
        """Refresh every `refresh_seconds` while connected, until cancelled. The first refresh waits too: a
        JetStream request sent while the broker is still starting could go unanswered and hold up its drain."""
        while True:
            await asyncio.sleep(self.refresh_seconds)
            client = connection()
            if self.watches and client is not None and client.is_connected:
                await self.refresh(client)
                raise_if_cancelled()

"""DVC_EVENTS -> projections: a durable pull consumer (over a lean connection, for its speed) handing raw batches to
BatchProcessor (design §7)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from faststream.nats import NatsBroker
from nats.aio.msg import Msg

from services.contracts.streams import EVENTS
from services.contracts.subjects import EVENTS_PREFIX
from services.indicators.entrypoints.decoding import decode
from services.indicators.service_layer.messages import AppliedBatch, Incoming
from services.runtime.nats.consumer_watch import ConsumerMonitor
from services.runtime.nats.consuming import BatchOutcome
from services.runtime.nats.subscribing import BatchConsumer, DurableConsumer, subscribe_batches

SERVICE = "indicators"


def published_at(messages: Sequence[Msg]) -> datetime | None:
    """Storage time of the newest message of a batch (the last one: batches come in stream order)."""
    stamp = messages[-1].metadata.timestamp if messages else None
    return None if stamp is None else stamp.astimezone(UTC)


def build_consumer(
    broker: NatsBroker,
    *,
    durable: str,
    batch_size: int,
    idle_poll: float,
    max_deliver: int,
    ack_wait: float,
    max_ack_pending: int,
    apply: Callable[[Sequence[Incoming]], Awaitable[AppliedBatch]],
    on_batch: Callable[[Sequence[Msg]], None],
    monitor: ConsumerMonitor | None = None,
    filter_subjects: tuple[str, ...] = (),
) -> BatchConsumer:
    """The DVC_EVENTS consumer, pulling over a lean connection of its own; `build_service_app` starts it.
    `on_batch(messages)` runs after each batch (metrics, snapshot poke); `monitor` gets its consumer metrics."""
    consumer = DurableConsumer(
        service=SERVICE,
        durable=durable,
        stream=EVENTS.name,
        subject=f"{EVENTS_PREFIX}.>",
        batch_size=batch_size,
        batch_timeout=idle_poll,
        max_deliver=max_deliver,
        ack_wait=ack_wait,
        max_ack_pending=max_ack_pending,
        filter_subjects=filter_subjects,  # a partition's slots (services.indicators.bootstrap_partitions)
        description="Every validated event, folded into the indicator projections",
    )

    def after_batch(messages: Sequence[Msg], _outcome: BatchOutcome) -> None:
        on_batch(messages)

    return subscribe_batches(
        broker, consumer, decode=decode, apply=apply, after_batch=after_batch, monitor=monitor, lean=True
    )

"""DVC_EVENTS -> projections: a durable pull consumer (`PullConsumer`, for its speed) handing raw batches to
BatchProcessor (design §7)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.aio.msg import Msg
from pydantic import ValidationError

from services.contracts.events import parse_event
from services.contracts.streams import EVENTS
from services.contracts.subjects import EVENTS_PREFIX
from services.indicators.adapters.store import AppliedBatch, Incoming
from services.indicators.domain.events import to_projected
from services.runtime.nats.broker import current_connection
from services.runtime.nats.consumer_watch import ConsumerMonitor
from services.runtime.nats.consuming import BatchOutcome, BatchProcessor, InvalidMessage
from services.runtime.nats.pulling import PullConsumer, stream_sequence
from services.runtime.nats.subscribing import DurableConsumer

SERVICE = "indicators"


def decode(message: Msg) -> Incoming:
    """Raw JetStream message -> Incoming; InvalidMessage (-> DVC_DLQ) for anything malformed. Any other error
    (OverflowError from a date at the edge of the calendar) dead-letters the message as well (BatchProcessor)."""
    try:
        event = parse_event(message.data)
    except (ValidationError, ValueError) as error:
        raise InvalidMessage(str(error)[:900]) from error
    return Incoming(event.source, event.id, to_projected(event), stream_sequence(message))


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
) -> PullConsumer[Incoming]:
    """The DVC_EVENTS consumer on the broker's connection, run by a background task (`PullConsumer.run`).
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
        filter_subjects=filter_subjects,  # a partition's slots (services.indicators.partitions)
        description="Every validated event, folded into the indicator projections",
    )

    async def apply_items(items: Sequence[Incoming]) -> None:
        await apply(items)

    watch = None if monitor is None else monitor.watch(durable, EVENTS.name)

    def processor(client: Client) -> BatchProcessor[Incoming]:
        return BatchProcessor(SERVICE, durable, client.jetstream(), decode, apply_items, max_deliver, watch)

    def after_batch(messages: Sequence[Msg], _outcome: BatchOutcome) -> None:
        on_batch(messages)

    return PullConsumer(consumer, lambda: current_connection(broker), processor, after_batch)

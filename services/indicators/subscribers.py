"""DVC_EVENTS -> projections: a durable pull consumer handing raw batches to BatchProcessor (DESIGN §7)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from pydantic import ValidationError

from services.contracts.events import parse_event
from services.contracts.streams import EVENTS
from services.contracts.subjects import EVENTS_PREFIX
from services.indicators.adapters.store import AppliedBatch, Incoming
from services.indicators.domain.events import to_projected
from services.runtime.consuming import BatchOutcome, InvalidMessage
from services.runtime.subscribing import DurableConsumer, subscribe_batches

SERVICE = "indicators"


def decode(message: Msg) -> Incoming:
    """Raw JetStream message -> Incoming; InvalidMessage (-> DVC_DLQ) for anything malformed."""
    try:
        event = parse_event(message.data)
    except (ValidationError, ValueError) as error:
        raise InvalidMessage(str(error)[:900]) from error
    sequence = message.metadata.sequence.stream if message.metadata.sequence else None
    return Incoming(event.source, event.id, to_projected(event), sequence)


def published_at(messages: Sequence[Msg]) -> datetime | None:
    """Storage time of the newest message of a batch (for the apply-lag gauge)."""
    stamps = [message.metadata.timestamp for message in messages if message.metadata.timestamp is not None]
    return max(stamps).astimezone(UTC) if stamps else None


def register_consumer(
    broker: NatsBroker,
    *,
    durable: str,
    batch_size: int,
    batch_timeout: float,
    max_deliver: int,
    ack_wait: float,
    max_ack_pending: int,
    apply: Callable[[Sequence[Incoming]], Awaitable[AppliedBatch]],
    on_batch: Callable[[Sequence[Msg], int], None],
) -> None:
    """`on_batch(messages, dead_lettered)` runs after each batch (metrics, snapshot poke)."""
    consumer = DurableConsumer(
        service=SERVICE,
        durable=durable,
        stream=EVENTS.name,
        subject=f"{EVENTS_PREFIX}.>",
        batch_size=batch_size,
        batch_timeout=batch_timeout,
        max_deliver=max_deliver,
        ack_wait=ack_wait,
        max_ack_pending=max_ack_pending,
        description="Every validated event, folded into the indicator projections",
    )

    def after_batch(messages: Sequence[Msg], outcome: BatchOutcome) -> None:
        on_batch(messages, outcome.dead_lettered)

    subscribe_batches(broker, consumer, decode=decode, apply=apply, after_batch=after_batch)

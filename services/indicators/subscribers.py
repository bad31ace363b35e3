"""DVC_EVENTS -> projections: a durable pull consumer handing raw batches to BatchProcessor (DESIGN §7)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from faststream import AckPolicy, Context
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.message import NatsBatchMessage
from nats.aio.msg import Msg
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy
from pydantic import ValidationError

from services.contracts.events import parse_event
from services.contracts.streams import EVENTS
from services.contracts.subjects import EVENTS_PREFIX
from services.indicators.adapters.store import AppliedBatch, Incoming
from services.indicators.domain.events import to_projected
from services.runtime.broker import jetstream
from services.runtime.consuming import BatchProcessor, InvalidMessage

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
    processor: list[BatchProcessor[Incoming]] = []

    async def apply_items(items: Sequence[Incoming]) -> None:
        await apply(items)

    config = ConsumerConfig(
        durable_name=durable,
        ack_policy=JsAckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        max_deliver=max_deliver,
        ack_wait=ack_wait,
        max_ack_pending=max_ack_pending,
    )

    @broker.subscriber(
        f"{EVENTS_PREFIX}.>",
        stream=JStream(EVENTS.name, declare=False),
        durable=durable,
        config=config,
        pull_sub=PullSub(batch_size=batch_size, timeout=batch_timeout, batch=True),
        ack_policy=AckPolicy.MANUAL,
        title="indicators/DVC_EVENTS",
        description="Every validated event, folded into the indicator projections",
    )
    async def handle(message: NatsBatchMessage = Context("message")) -> None:
        if not processor:
            processor.append(
                BatchProcessor(SERVICE, durable, jetstream(broker), decode, apply_items, max_deliver=max_deliver)
            )
        raw: list[Msg] = list(message.raw_message)
        outcome = await processor[0].process(raw)
        on_batch(raw, outcome.dead_lettered)

"""Register a durable JetStream pull consumer whose batches go through `BatchProcessor` (design §7).

Every service consumes the same way: FastStream pull subscriber with `batch=True` (order kept, one
transaction per batch), manual acks, a capped `max_deliver`, and the stream never declared here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from faststream import AckPolicy, Context
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.message import NatsBatchMessage
from nats.aio.msg import Msg
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.runtime.nats.broker import jetstream, pull_inbox_prefix
from services.runtime.nats.consumer_watch import ConsumerMonitor
from services.runtime.nats.consuming import BatchOutcome, BatchProcessor

T = TypeVar("T")


@dataclass(frozen=True)
class DurableConsumer:
    service: str
    durable: str
    stream: str
    subject: str
    batch_size: int
    batch_timeout: float
    max_deliver: int
    ack_wait: float
    max_ack_pending: int | None = None
    deliver_policy: DeliverPolicy = DeliverPolicy.ALL
    filter_subjects: tuple[str, ...] = ()
    description: str = ""

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            ack_policy=JsAckPolicy.EXPLICIT,
            deliver_policy=self.deliver_policy,
            max_deliver=self.max_deliver,
            ack_wait=self.ack_wait,
            max_ack_pending=self.max_ack_pending,
            filter_subjects=list(self.filter_subjects) or None,
        )


def subscribe_batches(
    broker: NatsBroker,
    consumer: DurableConsumer,
    *,
    decode: Callable[[Msg], T],
    apply: Callable[[Sequence[T]], Awaitable[object]],
    after_batch: Callable[[Sequence[Msg], BatchOutcome], None] | None = None,
    monitor: ConsumerMonitor | None = None,
) -> None:
    """`apply` is one transaction for the whole batch; `after_batch` runs once it is committed and acked;
    `monitor` (the service's, see `build_service_app`) gets this consumer's metrics and readiness."""
    processors: list[BatchProcessor[T]] = []  # built on first delivery, once the broker is connected
    watch = None if monitor is None else monitor.watch(consumer.durable, consumer.stream)

    async def apply_items(items: Sequence[T]) -> None:
        await apply(items)

    @broker.subscriber(
        consumer.subject,
        stream=JStream(consumer.stream, declare=False),
        durable=consumer.durable,
        config=consumer.config(),
        pull_sub=PullSub(batch_size=consumer.batch_size, timeout=consumer.batch_timeout, batch=True),
        inbox_prefix=pull_inbox_prefix(broker),
        ack_policy=AckPolicy.MANUAL,
        title=f"{consumer.service}/{consumer.stream}/{consumer.durable}",
        description=consumer.description,
    )
    async def handle(message: NatsBatchMessage = Context("message")) -> None:
        if not processors:
            processors.append(
                BatchProcessor(
                    consumer.service,
                    consumer.durable,
                    jetstream(broker),
                    decode,
                    apply_items,
                    consumer.max_deliver,
                    watch,
                )
            )
        raw: list[Msg] = list(message.raw_message)
        outcome = await processors[0].process(raw)
        if after_batch is not None:
            after_batch(raw, outcome)

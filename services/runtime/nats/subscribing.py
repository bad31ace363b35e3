"""Build a service's durable JetStream batch consumer on its FastStream broker's connection (design §7).

Every service consumes the same way: order kept, one transaction per batch through `BatchProcessor`, manual
acks, a capped `max_deliver`, and the stream never declared here. The pull loop is ours (`PullConsumer`), not
FastStream's `PullSub(batch=True)`: with nats-py 2.16, `fetch()` raises a bare `asyncio.TimeoutError` when a
batch's deadline runs out just after the no-wait probe was answered, which FastStream 0.7's loop does not
catch; the messages it had fetched for that batch then waited `ack_wait` before being delivered again.
FastStream still owns the connection (`broker.connection`, public), its reconnects and the publishers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.aio.msg import Msg

from services.runtime.nats.batch_consumer import BatchConsumer, DurableConsumer
from services.runtime.nats.broker import current_connection
from services.runtime.nats.consumer_watch import ConsumerMonitor
from services.runtime.nats.consuming import BatchOutcome, BatchProcessor
from services.runtime.nats.pulling import PullConsumer

__all__ = ["BatchConsumer", "DurableConsumer", "subscribe_batches"]

T = TypeVar("T")


def subscribe_batches(
    broker: NatsBroker,
    consumer: DurableConsumer,
    *,
    decode: Callable[[Msg], T],
    apply: Callable[[Sequence[T]], Awaitable[object]],
    after_batch: Callable[[Sequence[Msg], BatchOutcome], None] | None = None,
    monitor: ConsumerMonitor | None = None,
    lean: bool = False,
) -> PullConsumer[T]:
    """`apply` is one transaction for the whole batch; `after_batch` runs once it is committed and acked;
    `monitor` (the service's, see `build_service_app`) gets this consumer's metrics and readiness. With `lean`,
    pull requests go over a lean connection of their own (`services.runtime.nats.wire`, for high volumes);
    otherwise over the broker's. Nothing runs until `start()` (`build_service_app` calls it)."""
    watch = None if monitor is None else monitor.watch(consumer.durable, consumer.stream)

    async def apply_items(items: Sequence[T]) -> None:
        await apply(items)

    def processor(client: Client) -> BatchProcessor[T]:
        return BatchProcessor(
            consumer.service, consumer.durable, client.jetstream(), decode, apply_items, consumer.max_deliver, watch
        )

    return PullConsumer(consumer, lambda: current_connection(broker), processor, after_batch, lean=lean)

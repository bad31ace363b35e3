"""dvc.indicators.snapshot -> live plan indicators: a durable pull consumer handing raw batches to BatchProcessor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from faststream import AckPolicy, Context
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.message import NatsBatchMessage
from nats.aio.msg import Msg
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy
from pydantic import ValidationError

from services.contracts.alerts import IndicatorSnapshotTaken
from services.contracts.streams import ALERTS
from services.contracts.subjects import INDICATORS_SNAPSHOT
from services.runtime.broker import jetstream
from services.runtime.consuming import BatchProcessor, InvalidMessage
from services.tasks.adapters.live_store import SnapshotItem

SERVICE = "tasks"
_DELIVER = {"last": DeliverPolicy.LAST_PER_SUBJECT, "all": DeliverPolicy.ALL, "new": DeliverPolicy.NEW}


def decode(message: Msg) -> SnapshotItem:
    try:
        snapshot = IndicatorSnapshotTaken.model_validate_json(message.data)
    except (ValidationError, ValueError) as error:
        raise InvalidMessage(str(error)[:900]) from error
    sequence = message.metadata.sequence.stream if message.metadata.sequence else None
    return SnapshotItem(f"snapshot:{snapshot.snapshot_id}", sequence, snapshot)


def register_consumer(
    broker: NatsBroker,
    *,
    durable: str,
    replay: str,
    batch_size: int,
    batch_timeout: float,
    max_deliver: int,
    ack_wait: float,
    apply: Callable[[Sequence[SnapshotItem]], Awaitable[object]],
) -> None:
    processor: list[BatchProcessor[SnapshotItem]] = []

    async def apply_items(items: Sequence[SnapshotItem]) -> None:
        await apply(items)

    config = ConsumerConfig(
        durable_name=durable,
        ack_policy=JsAckPolicy.EXPLICIT,
        deliver_policy=_DELIVER[replay],
        max_deliver=max_deliver,
        ack_wait=ack_wait,
    )

    @broker.subscriber(
        INDICATORS_SNAPSHOT,
        stream=JStream(ALERTS.name, declare=False),
        durable=durable,
        config=config,
        pull_sub=PullSub(batch_size=batch_size, timeout=batch_timeout, batch=True),
        ack_policy=AckPolicy.MANUAL,
        title="tasks/dvc.indicators.snapshot",
        description="Indicator snapshots: I15-I25 of the loaded plans, one value per indicator and day",
    )
    async def handle(message: NatsBatchMessage = Context("message")) -> None:
        if not processor:
            processor.append(
                BatchProcessor(SERVICE, durable, jetstream(broker), decode, apply_items, max_deliver=max_deliver)
            )
        await processor[0].process(list(message.raw_message))

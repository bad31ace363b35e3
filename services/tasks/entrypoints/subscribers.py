"""dvc.indicators.snapshot -> live plan indicators: a durable pull consumer handing raw batches to BatchProcessor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy
from pydantic import ValidationError

from services.contracts.alerts import IndicatorSnapshotTaken
from services.contracts.streams import ALERTS
from services.contracts.subjects import INDICATORS_SNAPSHOT
from services.runtime.nats.consumer_watch import ConsumerMonitor
from services.runtime.nats.consuming import InvalidMessage
from services.runtime.nats.subscribing import BatchConsumer, DurableConsumer, subscribe_batches
from services.tasks.service_layer.messages import SnapshotItem

SERVICE = "tasks"
_DELIVER = {"last": DeliverPolicy.LAST_PER_SUBJECT, "all": DeliverPolicy.ALL, "new": DeliverPolicy.NEW}


def decode(message: Msg) -> SnapshotItem:
    try:
        snapshot = IndicatorSnapshotTaken.model_validate_json(message.data)
    except (ValidationError, ValueError) as error:
        raise InvalidMessage(str(error)[:900]) from error
    for moment in (snapshot.period_from, snapshot.period_to, snapshot.taken_at):
        moment.astimezone(UTC)  # OverflowError outside years 1-9999 in UTC: dead-lettered alone (BatchProcessor)
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
    monitor: ConsumerMonitor | None = None,
) -> BatchConsumer:
    return subscribe_batches(
        broker,
        DurableConsumer(
            service=SERVICE,
            durable=durable,
            stream=ALERTS.name,
            subject=INDICATORS_SNAPSHOT,
            batch_size=batch_size,
            batch_timeout=batch_timeout,
            max_deliver=max_deliver,
            ack_wait=ack_wait,
            deliver_policy=_DELIVER[replay],
            description="Indicator snapshots: I15-I25 of the loaded plans, one value per indicator and day",
        ),
        decode=decode,
        apply=apply,
        monitor=monitor,
    )

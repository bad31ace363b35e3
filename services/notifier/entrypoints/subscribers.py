"""Two durable pull consumers (design §7): dossier events on DVC_EVENTS, dossier and task alerts on DVC_ALERTS
(not the indicator snapshots). Each hands raw batches to BatchProcessor; the intake records them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy
from pydantic import ValidationError

from services.contracts.alerts import DossierAlertRaised, TaskAlertRaised
from services.contracts.events import parse_event
from services.contracts.streams import ALERTS, EVENTS
from services.contracts.subjects import ALERTS_PREFIX, EVENTS_PREFIX
from services.notifier.domain.incoming import Incoming, from_dossier_alert, from_event, from_task_alert
from services.runtime.nats.consumer_watch import ConsumerMonitor
from services.runtime.nats.consuming import InvalidMessage
from services.runtime.nats.pulling import stream_sequence
from services.runtime.nats.subscribing import BatchConsumer, DurableConsumer, subscribe_batches

SERVICE = "notifier"
DOSSIER_EVENTS = f"{EVENTS_PREFIX}.dossier.>"
ALERT_SUBJECTS = (f"{ALERTS_PREFIX}.dossier.*", f"{ALERTS_PREFIX}.task.*")

Apply = Callable[[Sequence[Incoming], str], Awaitable[None]]


def _storable(incoming: Incoming) -> Incoming:
    """The time is stored in UTC: one outside years 1-9999 there raises OverflowError here, in decoding (the
    message alone is dead-lettered), not in the batch's transaction."""
    incoming.time.astimezone(UTC)
    return incoming


def event_decoder(timezone: str) -> Callable[[Msg], Incoming]:
    def decode(message: Msg) -> Incoming:
        try:
            incoming = from_event(parse_event(message.data), timezone, stream_sequence(message))
        except (ValidationError, ValueError) as error:
            raise InvalidMessage(str(error)[:900]) from error
        return _storable(incoming)

    return decode


def alert_decoder(timezone: str) -> Callable[[Msg], Incoming]:
    def decode(message: Msg) -> Incoming:
        try:
            if message.subject.startswith(f"{ALERTS_PREFIX}.dossier."):
                alert = DossierAlertRaised.model_validate_json(message.data)
                return _storable(from_dossier_alert(alert, timezone, stream_sequence(message)))
            if message.subject.startswith(f"{ALERTS_PREFIX}.task."):
                task_alert = TaskAlertRaised.model_validate_json(message.data)
                return _storable(from_task_alert(task_alert, stream_sequence(message)))
        except (ValidationError, ValueError) as error:
            raise InvalidMessage(str(error)[:900]) from error
        raise InvalidMessage(f"no notifier alert on {message.subject}")

    return decode


@dataclass(frozen=True)
class ConsumerSettings:
    durable: str
    batch_size: int
    batch_timeout: float
    max_deliver: int
    ack_wait: float
    max_ack_pending: int
    deliver_new_only: bool = False  # a new consumer skips the stream's history


def _register(
    broker: NatsBroker,
    consumer: ConsumerSettings,
    *,
    stream: str,
    subject: str,
    filter_subjects: Sequence[str],
    decode: Callable[[Msg], Incoming],
    apply: Apply,
    after_batch: Callable[[], None],
    description: str,
    monitor: ConsumerMonitor | None,
) -> BatchConsumer:
    async def apply_items(items: Sequence[Incoming]) -> None:
        await apply(items, consumer.durable)

    return subscribe_batches(
        broker,
        DurableConsumer(
            service=SERVICE,
            durable=consumer.durable,
            stream=stream,
            subject=subject,
            batch_size=consumer.batch_size,
            batch_timeout=consumer.batch_timeout,
            max_deliver=consumer.max_deliver,
            ack_wait=consumer.ack_wait,
            max_ack_pending=consumer.max_ack_pending,
            deliver_policy=DeliverPolicy.NEW if consumer.deliver_new_only else DeliverPolicy.ALL,
            filter_subjects=tuple(filter_subjects),
            description=description,
        ),
        decode=decode,
        apply=apply_items,
        after_batch=lambda _messages, _outcome: after_batch(),
        monitor=monitor,
    )


def register_consumers(
    broker: NatsBroker,
    *,
    events: ConsumerSettings,
    alerts: ConsumerSettings,
    timezone: str,
    apply: Apply,
    after_batch: Callable[[], None],
    monitor: ConsumerMonitor | None = None,
) -> list[BatchConsumer]:
    """`after_batch` runs once a batch is committed and acked (wakes the dispatcher); `monitor` gets both
    consumers' metrics and readiness. The consumers start with the app (`build_service_app`)."""
    events_consumer = _register(
        broker,
        events,
        stream=EVENTS.name,
        subject=DOSSIER_EVENTS,
        filter_subjects=(),
        decode=event_decoder(timezone),
        apply=apply,
        after_batch=after_batch,
        description="Dossier events: citizen SMS per configured trigger",
        monitor=monitor,
    )
    alerts_consumer = _register(
        broker,
        alerts,
        stream=ALERTS.name,
        subject="",
        filter_subjects=ALERT_SUBJECTS,
        decode=alert_decoder(timezone),
        apply=apply,
        after_batch=after_batch,
        description="Dossier and task alerts: officer reminders (indicator snapshots are not read)",
        monitor=monitor,
    )
    return [events_consumer, alerts_consumer]

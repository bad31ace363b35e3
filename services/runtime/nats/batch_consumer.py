"""The one interface of a durable JetStream batch consumer, whatever carries its pull requests.

Services build their consumers (`services.runtime.nats.subscribing.subscribe_batches` or
`services.runtime.nats.pulling.PullConsumer`) and hand them to `build_service_app`, which starts them once the
migrations ran and stops them before the broker; readiness and metrics come from `consumer_watch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy


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


@dataclass(frozen=True)
class ConsumerHealth:
    durable: str
    stream: str
    transport: str  # what the current session pulls through: "lean", "nats-py", or "" before the first one
    running: bool


class BatchConsumer(Protocol):
    """Started after the service's migrations (`build_service_app`), stopped before its broker."""

    @property
    def consumer(self) -> DurableConsumer: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def health(self) -> ConsumerHealth: ...

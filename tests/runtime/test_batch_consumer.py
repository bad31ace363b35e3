"""A service's batch consumer behind `BatchConsumer`, started by `build_service_app`, on a real nats-server:
nothing is applied before the migrations ran, and batches that end on their deadline (partial batches, the
case where nats-py's `fetch` raised a bare `asyncio.TimeoutError` that FastStream's pull loop did not catch)
are applied at once and exactly once, never after `ack_wait`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx
import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from prometheus_client import CollectorRegistry, generate_latest

from services.runtime.app import build_service_app
from services.runtime.nats.consumer_watch import ConsumerMonitor
from services.runtime.nats.embedded import EmbeddedNats
from services.runtime.nats.subscribing import BatchConsumer, DurableConsumer, subscribe_batches
from tests.metric_helpers import sample

pytestmark = pytest.mark.timeout(120)
ACK_WAIT = 60.0  # a batch lost by the pull loop would come back only after this
PATIENCE = 30.0  # well below ACK_WAIT: every message must be applied on its first delivery


class Applied:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.changed = asyncio.Event()

    async def apply(self, items: Sequence[str]) -> None:
        self.items.extend(items)
        self.changed.set()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(PATIENCE):
            while len(self.items) < count:
                self.changed.clear()
                await self.changed.wait()


def _consumer(broker: NatsBroker, applied: Applied, monitor: ConsumerMonitor) -> BatchConsumer:
    durable = DurableConsumer(
        "svc", "trickle", "DVC_EVENTS", "dvc.events.>", batch_size=10, batch_timeout=0.05, max_deliver=3,
        ack_wait=ACK_WAIT,
    )  # fmt: skip
    return subscribe_batches(broker, durable, decode=lambda message: message.data.decode(), apply=applied.apply,
                             monitor=monitor)  # fmt: skip


async def test_nothing_is_applied_before_the_migrations_ran_when_messages_wait_in_the_stream(
    client: Client, private_nats: EmbeddedNats
) -> None:
    await client.jetstream().publish("dvc.events.a", b"early")
    broker, applied, monitor = NatsBroker(private_nats.url), Applied(), ConsumerMonitor(CollectorRegistry())
    consumer = _consumer(broker, applied, monitor)
    migrations_may_finish, seen_during_migrations = asyncio.Event(), []

    async def migrate() -> None:
        await asyncio.sleep(1.0)  # time enough for a consumer started too early to apply the waiting message
        seen_during_migrations.extend(applied.items)
        migrations_may_finish.set()

    app = build_service_app(service="svc", title="t", description="d", broker=broker, registry=CollectorRegistry(),
                            migrate=migrate, batch_consumers=[consumer], monitor=monitor)  # fmt: skip
    async with app.router.lifespan_context(app):
        await applied.wait_for(1)
        health = consumer.health()

    assert migrations_may_finish.is_set()
    assert seen_during_migrations == []
    assert applied.items == ["early"]
    assert (health.durable, health.stream, health.transport, health.running) == (
        "trickle",
        "DVC_EVENTS",
        "nats-py",
        True,
    )
    assert not consumer.health().running


async def test_every_message_is_applied_once_on_its_first_delivery_when_batches_end_on_their_deadline(
    client: Client, private_nats: EmbeddedNats
) -> None:
    registry = CollectorRegistry()
    broker, applied, monitor = NatsBroker(private_nats.url), Applied(), ConsumerMonitor(registry)
    consumer = _consumer(broker, applied, monitor)
    sent: list[str] = []
    app = build_service_app(service="svc", title="t", description="d", broker=broker, registry=registry,
                            batch_consumers=[consumer], monitor=monitor)  # fmt: skip
    async with app.router.lifespan_context(app):
        js = client.jetstream()
        for round_ in range(40):  # 1-3 messages at a time, with gaps around the 50 ms batch deadline
            for index in range(1 + round_ % 3):
                sent.append(f"{round_}-{index}")
                await js.publish("dvc.events.a", sent[-1].encode())
            await asyncio.sleep(0.02 + (round_ % 5) * 0.015)
        await applied.wait_for(len(sent))
        await asyncio.sleep(0.5)  # anything applied twice would show now
    metrics = generate_latest(registry).decode()

    assert applied.items == sent
    assert sample(metrics, "dvc_consumer_redeliveries_total", consumer="trickle") == 0.0
    assert sample(metrics, "dvc_consumer_failed_batches", consumer="trickle") == 0.0


async def test_asyncapi_describes_each_consumer_when_consumers_pull_with_our_own_loop() -> None:
    broker, applied, monitor = NatsBroker(), Applied(), ConsumerMonitor(CollectorRegistry())
    consumer = _consumer(broker, applied, monitor)
    app = build_service_app(service="svc", title="t", description="d", broker=broker, registry=CollectorRegistry(),
                            batch_consumers=[consumer])  # fmt: skip
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as api:
        document = (await api.get("/asyncapi.json")).json()

    (channel,) = document["channels"].values()
    assert channel["address"] == "dvc.events.>"
    assert list(document["operations"]) == ["svc/DVC_EVENTS/trickle"]

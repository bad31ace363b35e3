"""Every consumer kind on a real nats-server: one message's decoding or apply error never drops or blocks its
neighbours, it reaches DVC_DLQ naming the reason and the exception type; the per-consumer metrics move and
`/readyz` names a consumer whose batches keep failing, until one goes through."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx
import nats
import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.aio.msg import Msg
from prometheus_client import CollectorRegistry, generate_latest

from services.runtime.app import build_service_app
from services.runtime.nats.consumer_watch import ConsumerMonitor
from services.runtime.nats.consuming import BatchProcessor, InvalidMessage, delivery_count
from services.runtime.nats.embedded import EmbeddedNats
from services.runtime.nats.pulling import PullConsumer
from services.runtime.nats.subscribing import DurableConsumer, subscribe_batches
from tests.metric_helpers import sample

pytestmark = pytest.mark.timeout(60)


def _consumer(durable: str) -> DurableConsumer:
    return DurableConsumer("svc", durable, "DVC_EVENTS", "dvc.events.>", 10, 0.2, max_deliver=3, ack_wait=30)


def _decode(message: Msg) -> str:
    text = message.data.decode()
    if text == "year-0":
        raise OverflowError("date value out of range")  # what converting 0001-01-01T00:00:00+01:00 raises
    if text == "garbage":
        raise InvalidMessage("not an event")
    return text


class Applied:
    """Applies every item except `poison`, which fails every time with OverflowError (permanent for it)."""

    def __init__(self) -> None:
        self.items: list[str] = []

    async def apply(self, items: Sequence[str]) -> None:
        if "poison" in items:
            raise OverflowError("date value out of range")
        self.items.extend(items)


async def _publish(client: Client, *bodies: str) -> None:
    for body in bodies:
        await client.jetstream().publish("dvc.events.dossier.accepted", body.encode())


async def _dead_letters(client: Client, count: int) -> list[Msg]:
    """The first `count` records of dvc.dlq.svc, waiting for them."""
    js = client.jetstream()
    subscription = await js.pull_subscribe("dvc.dlq.svc", stream="DVC_DLQ")
    found: list[Msg] = []
    async with asyncio.timeout(20):
        while len(found) < count:
            try:
                found += await subscription.fetch(count - len(found), timeout=1)
            except nats.errors.TimeoutError:
                continue
    return found


async def test_message_whose_decoding_raises_overflow_error_is_dead_lettered_when_its_batch_neighbours_are_applied(
    client: Client,
) -> None:
    await _publish(client, "one", "year-0", "garbage", "two")
    registry = CollectorRegistry()
    monitor = ConsumerMonitor(registry)
    applied = Applied()
    processor = BatchProcessor(
        "svc", "decoding", client.jetstream(), _decode, applied.apply, 3, monitor.watch("decoding", "DVC_EVENTS")
    )
    subscription = await client.jetstream().pull_subscribe("dvc.events.>", durable="decoding", stream="DVC_EVENTS")

    outcome = await processor.process(await subscription.fetch(4, timeout=2))

    assert applied.items == ["one", "two"]
    assert (outcome.applied, outcome.dead_lettered, outcome.retried) == (2, 2, 0)
    overflow, garbage = await _dead_letters(client, 2)
    assert overflow.data == b"year-0"
    assert overflow.headers is not None
    assert overflow.headers["Dvc-Error"] == "invalid: OverflowError: date value out of range"
    assert overflow.headers["Dvc-Error-Type"] == "OverflowError"
    assert (overflow.headers["Dvc-Consumer"], overflow.headers["Dvc-Original-Sequence"]) == ("decoding", "2")
    assert garbage.headers is not None
    assert garbage.headers["Dvc-Error"] == "invalid: not an event"
    assert garbage.headers["Dvc-Error-Type"] == "InvalidMessage"
    assert (await subscription.consumer_info()).num_ack_pending == 0
    metrics = generate_latest(registry).decode()
    assert sample(metrics, "dvc_consumer_dead_lettered_total", consumer="decoding") == 2.0
    assert (sample(metrics, "dvc_consumer_last_applied_timestamp_seconds", consumer="decoding") or 0) > 0
    assert await monitor.check() is None


async def test_message_failing_in_apply_is_retried_alone_then_dead_lettered_when_a_pull_consumer_applies_the_rest(
    client: Client,
) -> None:
    await _publish(client, "good-1", "poison", "good-2")
    registry = CollectorRegistry()
    monitor = ConsumerMonitor(registry, unready_after=10)
    applied = Applied()
    watch = monitor.watch("pulling", "DVC_EVENTS")

    def processor(connected: Client) -> BatchProcessor[str]:
        return BatchProcessor("svc", "pulling", connected.jetstream(), _decode, applied.apply, 3, watch)

    task = asyncio.create_task(PullConsumer(_consumer("pulling"), lambda: client, processor).run())
    (dead,) = await _dead_letters(client, 1)
    task.cancel()

    assert applied.items == ["good-1", "good-2"]
    assert dead.data == b"poison"
    assert dead.headers is not None
    assert dead.headers["Dvc-Error"] == "failed 2 deliveries (last: OverflowError: date value out of range)"
    assert (dead.headers["Dvc-Error-Type"], dead.headers["Dvc-Consumer"]) == ("OverflowError", "pulling")
    metrics = generate_latest(registry).decode()
    assert sample(metrics, "dvc_consumer_redeliveries_total", consumer="pulling") == 1.0
    assert sample(metrics, "dvc_consumer_dead_lettered_total", consumer="pulling") == 1.0
    assert sample(metrics, "dvc_consumer_failed_batches", consumer="pulling") == 0.0  # the dead letter moved on


async def test_message_failing_in_apply_is_retried_alone_then_dead_lettered_when_a_broker_consumer_applies_the_rest(
    client: Client, private_nats: EmbeddedNats
) -> None:
    await _publish(client, "good-1", "poison", "good-2")
    registry = CollectorRegistry()
    monitor = ConsumerMonitor(registry, unready_after=10)
    applied = Applied()
    broker = NatsBroker(private_nats.url)
    consumer = subscribe_batches(broker, _consumer("batches"), decode=_decode, apply=applied.apply, monitor=monitor)
    await broker.start()
    await consumer.start()
    try:
        (dead,) = await _dead_letters(client, 1)
    finally:
        await consumer.stop()
        await broker.stop()

    assert applied.items == ["good-1", "good-2"]
    assert dead.headers is not None
    assert (dead.data, dead.headers["Dvc-Error-Type"]) == (b"poison", "OverflowError")
    metrics = generate_latest(registry).decode()
    assert sample(metrics, "dvc_consumer_redeliveries_total", consumer="batches") == 1.0
    assert sample(metrics, "dvc_consumer_dead_lettered_total", consumer="batches") == 1.0


async def test_readyz_names_the_consumer_when_batches_keep_failing_and_is_ready_again_when_one_applies(
    client: Client,
) -> None:
    await _publish(client, "first")
    registry = CollectorRegistry()
    monitor = ConsumerMonitor(registry, unready_after=2)
    database = {"up": False}

    async def apply(items: Sequence[str]) -> None:
        if not database["up"]:
            raise RuntimeError("projection rejected the batch")  # not an outage: the batch is nacked

    processor = BatchProcessor(
        "svc", "stuck", client.jetstream(), _decode, apply, max_deliver=10, watch=monitor.watch("stuck", "DVC_EVENTS")
    )
    app = build_service_app(
        service="svc", title="t", description="d", broker=None, registry=registry, checks={}, monitor=monitor
    )
    subscription = await client.jetstream().pull_subscribe("dvc.events.>", durable="stuck", stream="DVC_EVENTS")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as api:
        answers = []
        for up in (False, False, True):
            database["up"] = up
            await processor.process(await subscription.fetch(1, timeout=70))  # nacked with a backoff of <= 1 s
            answers.append(await api.get("/readyz"))
        metrics = (await api.get("/metrics")).text

    first, stuck, ready = answers
    assert first.status_code == 200
    assert stuck.status_code == 503
    assert stuck.headers["content-type"] == "application/problem+json"
    body = stuck.json()
    assert (body["status"], body["title"]) == (503, "Service Unavailable")
    assert "consumer stuck on DVC_EVENTS: 2 batches in a row failed" in body["detail"]
    assert "RuntimeError: projection rejected the batch" in body["reasons"]["consumers"]
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": ["consumers"]}
    assert sample(metrics, "dvc_consumer_failed_batches", consumer="stuck") == 0.0
    assert sample(metrics, "dvc_consumer_redeliveries_total", consumer="stuck") == 2.0


async def test_pending_gauges_show_the_backlog_when_the_consumer_info_is_refreshed(client: Client) -> None:
    await _publish(client, "a", "b", "c", "d", "e")
    subscription = await client.jetstream().pull_subscribe("dvc.events.>", durable="behind", stream="DVC_EVENTS")
    await subscription.fetch(2, timeout=2)  # delivered, not acked
    registry = CollectorRegistry()
    monitor = ConsumerMonitor(registry)
    monitor.watch("behind", "DVC_EVENTS")
    monitor.watch("not-created-yet", "DVC_EVENTS")

    await monitor.refresh(client)

    metrics = generate_latest(registry).decode()
    assert sample(metrics, "dvc_consumer_pending_messages", consumer="behind") == 3.0
    assert sample(metrics, "dvc_consumer_ack_pending_messages", consumer="behind") == 2.0
    assert sample(metrics, "dvc_consumer_pending_messages", consumer="not-created-yet") is None


def test_delivery_count_is_read_from_both_reply_subject_forms() -> None:
    v1 = Msg(_client=None, subject="s", reply="$JS.ACK.DVC_EVENTS.c.3.42.7.1700000000000000000.3")  # type: ignore[arg-type]
    v2 = Msg(_client=None, subject="s", reply="$JS.ACK.hub.ACC.DVC_EVENTS.c.2.43.8.1700000000000000000.2.xyz")  # type: ignore[arg-type]
    plain = Msg(_client=None, subject="s", reply="_INBOX.abc")  # type: ignore[arg-type]

    assert (delivery_count(v1), delivery_count(v2), delivery_count(plain)) == (3, 2, 1)

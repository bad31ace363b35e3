from __future__ import annotations

import asyncio
from collections.abc import Sequence

import nats
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig
from sqlalchemy.exc import IntegrityError, OperationalError

from services.runtime.nats.consuming import BatchProcessor, InvalidMessage, store_unavailable
from services.runtime.nats.embedded import EmbeddedNats
from services.runtime.nats.streams import apply_streams


def _decode(message: Msg) -> str:
    text = message.data.decode()
    if text.startswith("garbage"):
        raise InvalidMessage("not an event")
    return text


async def test_invalid_message_goes_to_dlq_with_reason_when_others_are_applied(private_nats: EmbeddedNats) -> None:
    client = await nats.connect(private_nats.url)
    js = client.jetstream()
    await apply_streams(js)
    for body in (b"one", b"garbage!", b"two"):
        await js.publish("dvc.events.test", body)
    applied: list[str] = []

    async def apply(items: Sequence[str]) -> None:
        applied.extend(items)

    subscription = await js.pull_subscribe("dvc.events.test", durable="t1", stream="DVC_EVENTS")
    processor = BatchProcessor("svc", "t1", js, _decode, apply, max_deliver=5)
    outcome = await processor.process(await subscription.fetch(3, timeout=2))

    assert applied == ["one", "two"]
    assert (outcome.applied, outcome.dead_lettered) == (2, 1)
    dead = await js.get_last_msg("DVC_DLQ", "dvc.dlq.svc")
    assert dead.data == b"garbage!"
    assert dead.headers is not None
    assert dead.headers["Dvc-Original-Subject"] == "dvc.events.test"
    assert dead.headers["Dvc-Original-Sequence"] == "2"
    assert dead.headers["Dvc-Error"] == "invalid: not an event"
    assert dead.headers["Dvc-Error-Type"] == "InvalidMessage"
    assert (await subscription.consumer_info()).num_ack_pending == 0
    await client.close()


async def test_poison_message_is_isolated_then_dead_lettered_when_it_keeps_failing(
    private_nats: EmbeddedNats,
) -> None:
    client = await nats.connect(private_nats.url)
    js = client.jetstream()
    await apply_streams(js)
    for body in (b"good-1", b"poison", b"good-2"):
        await js.publish("dvc.events.test", body)
    applied: list[str] = []

    async def apply(items: Sequence[str]) -> None:
        if "poison" in items:
            raise RuntimeError("cannot apply")
        applied.extend(items)

    config = ConsumerConfig(max_deliver=3, ack_wait=30)
    subscription = await js.pull_subscribe("dvc.events.test", durable="t2", stream="DVC_EVENTS", config=config)
    processor = BatchProcessor("svc", "t2", js, _decode, apply, max_deliver=3)

    first = await processor.process(await subscription.fetch(3, timeout=2))
    assert applied == ["good-1", "good-2"]
    assert first.retried == 1

    redelivered = await subscription.fetch(1, timeout=5)
    assert redelivered[0].metadata.num_delivered == 2
    second = await processor.process(redelivered)

    assert second.dead_lettered == 1
    dead = await js.get_last_msg("DVC_DLQ", "dvc.dlq.svc")
    assert dead.data == b"poison"
    assert dead.headers is not None
    assert dead.headers["Dvc-Error"] == "failed 2 deliveries (last: RuntimeError: cannot apply)"
    assert dead.headers["Dvc-Error-Type"] == "RuntimeError"
    await client.close()


async def test_batch_is_held_and_applied_not_dead_lettered_when_the_database_is_unreachable(
    private_nats: EmbeddedNats,
) -> None:
    """Regression (issue 11, fault suite): a PostgreSQL outage of 20 s made every batch fail its deliveries,
    so messages reached DVC_DLQ after ~16 s of backoff and were lost to the indicators."""
    client = await nats.connect(private_nats.url)
    js = client.jetstream()
    await apply_streams(js)
    for body in (b"one", b"two"):
        await js.publish("dvc.events.test", body)
    applied: list[str] = []
    outage = {"failures_left": 4}

    async def apply(items: Sequence[str]) -> None:
        if outage["failures_left"]:
            outage["failures_left"] -= 1
            raise OperationalError("INSERT ...", {}, ConnectionRefusedError(111, "Connect call failed"))
        applied.extend(items)

    config = ConsumerConfig(max_deliver=2, ack_wait=30)
    subscription = await js.pull_subscribe("dvc.events.test", durable="t3", stream="DVC_EVENTS", config=config)
    processor = BatchProcessor("svc", "t3", js, _decode, apply, max_deliver=2)
    outcome = await processor.process(await subscription.fetch(2, timeout=2))

    assert applied == ["one", "two"]
    assert (outcome.applied, outcome.dead_lettered, outcome.retried) == (2, 0, 0)
    await client.flush()
    info = await subscription.consumer_info()
    for _ in range(50):  # the server folds acks asynchronously: bounded poll, not a timing assertion
        if info.num_ack_pending == 0:
            break
        await asyncio.sleep(0.1)
        info = await subscription.consumer_info()
    assert (info.num_ack_pending, info.num_redelivered) == (0, 0)
    assert (await js.stream_info("DVC_DLQ")).state.messages == 0
    await client.close()


def test_store_unavailable_only_when_the_database_cannot_be_reached() -> None:
    refused = OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "refused"))
    assert store_unavailable(refused)
    assert store_unavailable(ConnectionResetError())
    assert not store_unavailable(IntegrityError("INSERT ...", {}, Exception("constraint failed")))
    assert not store_unavailable(ValueError("bad value"))

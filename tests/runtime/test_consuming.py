from __future__ import annotations

from collections.abc import Sequence

import nats
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig

from services.runtime.consuming import BatchProcessor, InvalidMessage
from services.runtime.embedded_nats import EmbeddedNats
from services.runtime.streams import apply_streams


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

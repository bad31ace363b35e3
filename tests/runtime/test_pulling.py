"""`PullConsumer` on a real nats-server: order, acks, the dead-letter path, idle waits and restarts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError

from services.runtime.nats.consuming import BatchOutcome, BatchProcessor, InvalidMessage
from services.runtime.nats.embedded import EmbeddedNats, free_port
from services.runtime.nats.pulling import PullConsumer, stream_sequence
from services.runtime.nats.streams import apply_streams
from services.runtime.nats.subscribing import DurableConsumer


def _consumer(durable: str, batch_size: int = 7) -> DurableConsumer:
    return DurableConsumer(
        service="svc",
        durable=durable,
        stream="DVC_EVENTS",
        subject="dvc.events.>",
        batch_size=batch_size,
        batch_timeout=0.2,
        max_deliver=3,
        ack_wait=30,
    )


def _decode(message: Msg) -> tuple[int, str]:
    text = message.data.decode()
    if text.startswith("garbage"):
        raise InvalidMessage("not an event")
    sequence = stream_sequence(message)
    assert sequence is not None
    return sequence, text


class Recorder:
    def __init__(self) -> None:
        self.applied: list[tuple[int, str]] = []
        self.batches: list[int] = []
        self.dead_lettered = 0
        self.changed = asyncio.Event()

    async def apply(self, items: Sequence[tuple[int, str]]) -> None:
        self.applied.extend(items)

    def after_batch(self, messages: Sequence[Msg], outcome: BatchOutcome) -> None:
        self.batches.append(len(messages))
        self.dead_lettered += outcome.dead_lettered
        self.changed.set()

    async def wait_for(self, count: int) -> None:
        while len(self.applied) + self.dead_lettered < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)


@pytest.fixture(params=[True, False], ids=["lean", "nats-py"])
def lean(request: pytest.FixtureRequest) -> bool:
    """Every test runs over both transports: the lean pull connection and nats-py's own."""
    return bool(request.param)


def _pull_consumer(
    client: Client, durable: str, recorder: Recorder, lean: bool, batch_size: int = 7
) -> PullConsumer[object]:
    def processor(connected: Client) -> BatchProcessor[object]:
        return BatchProcessor("svc", durable, connected.jetstream(), _decode, recorder.apply, 3)  # type: ignore[arg-type]

    return PullConsumer(_consumer(durable, batch_size), lambda: client, processor, recorder.after_batch, lean=lean)


async def test_every_message_is_applied_in_stream_order_and_acked_when_batches_are_prefetched(
    client: Client, lean: bool
) -> None:
    js = client.jetstream()
    for number in range(50):
        await js.publish(f"dvc.events.dossier.n{number % 3}", f"event-{number}".encode())
    recorder = Recorder()
    consumer = _pull_consumer(client, "ordered", recorder, lean)
    task = asyncio.create_task(consumer.run())
    await recorder.wait_for(50)

    assert consumer.transport == ("lean" if lean else "nats-py")
    assert [text for _, text in recorder.applied] == [f"event-{number}" for number in range(50)]
    assert [sequence for sequence, _ in recorder.applied] == list(range(1, 51))
    assert max(recorder.batches) == 7
    for _ in range(50):  # the acks travel on the pull connection, the query on another: give them a moment
        info = await js.consumer_info("DVC_EVENTS", "ordered")
        if (info.num_ack_pending, info.num_pending) == (0, 0):
            break
        await asyncio.sleep(0.05)
    assert (info.num_ack_pending, info.num_pending) == (0, 0)
    task.cancel()


async def test_invalid_message_is_dead_lettered_when_the_rest_of_its_batch_is_applied(
    client: Client, lean: bool
) -> None:
    js = client.jetstream()
    for body in (b"one", b"garbage", b"two"):
        await js.publish("dvc.events.test", body)
    recorder = Recorder()
    task = asyncio.create_task(_pull_consumer(client, "dlq", recorder, lean).run())
    await recorder.wait_for(3)

    assert [text for _, text in recorder.applied] == ["one", "two"]
    dead = await js.get_last_msg("DVC_DLQ", "dvc.dlq.svc")
    assert dead.data == b"garbage"
    assert dead.headers is not None
    assert dead.headers["Dvc-Error"] == "invalid: not an event"
    task.cancel()


async def test_event_published_later_is_applied_when_the_consumer_was_idle(client: Client, lean: bool) -> None:
    js = client.jetstream()
    recorder = Recorder()
    task = asyncio.create_task(_pull_consumer(client, "idle", recorder, lean).run())
    await asyncio.sleep(1.2)  # longer than batch_timeout: the consumer has polled and found nothing, several times
    await js.publish("dvc.events.test", b"late")
    await recorder.wait_for(1)

    assert recorder.applied == [(1, "late")]
    task.cancel()


async def test_consumer_resumes_after_the_last_ack_when_it_is_restarted(client: Client, lean: bool) -> None:
    js = client.jetstream()
    for number in range(10):
        await js.publish("dvc.events.test", f"first-{number}".encode())
    first = Recorder()
    task = asyncio.create_task(_pull_consumer(client, "restart", first, lean, batch_size=4).run())
    await first.wait_for(10)
    task.cancel()
    for number in range(5):
        await js.publish("dvc.events.test", f"second-{number}".encode())
    second = Recorder()
    task = asyncio.create_task(_pull_consumer(client, "restart", second, lean, batch_size=4).run())
    await second.wait_for(5)

    assert [text for _, text in second.applied] == [f"second-{number}" for number in range(5)]
    task.cancel()


async def test_consumer_waits_without_failing_when_the_broker_is_not_connected_yet(client: Client, lean: bool) -> None:
    js = client.jetstream()
    await js.publish("dvc.events.test", b"waiting")
    connection: list[Client] = []
    recorder = Recorder()

    def processor(connected: Client) -> BatchProcessor[object]:
        return BatchProcessor("svc", "later", connected.jetstream(), _decode, recorder.apply, 3)  # type: ignore[arg-type]

    consumer: PullConsumer[object] = PullConsumer(
        _consumer("later"), lambda: connection[0] if connection else None, processor, recorder.after_batch, lean=lean
    )
    task = asyncio.create_task(consumer.run())
    await asyncio.sleep(0.5)
    assert recorder.applied == []
    connection.append(client)
    await recorder.wait_for(1)

    assert recorder.applied == [(1, "waiting")]
    task.cancel()


def test_stream_sequence_is_read_from_both_reply_subject_forms() -> None:
    v1 = Msg(_client=None, subject="s", reply="$JS.ACK.DVC_EVENTS.c.1.42.7.1700000000000000000.3")  # type: ignore[arg-type]
    v2 = Msg(_client=None, subject="s", reply="$JS.ACK.hub.ACC.DVC_EVENTS.c.1.43.8.1700000000000000000.2.xyz")  # type: ignore[arg-type]
    plain = Msg(_client=None, subject="s", reply="_INBOX.abc")  # type: ignore[arg-type]

    assert (stream_sequence(v1), stream_sequence(v2), stream_sequence(plain)) == (42, 43, None)


async def test_consumer_carries_on_when_the_nats_server_restarts(tmp_path: Path, lean: bool) -> None:
    server = EmbeddedNats(free_port(), tmp_path / "nats")
    server.start()
    client = await nats.connect(server.url, reconnect_time_wait=0.1, max_reconnect_attempts=-1)
    js = client.jetstream()
    await apply_streams(js)
    for number in range(5):
        await js.publish("dvc.events.test", f"before-{number}".encode())
    recorder = Recorder()
    consumer = _pull_consumer(client, "restarted", recorder, lean)
    consumer.retry_seconds = 0.2
    task = asyncio.create_task(consumer.run())
    await recorder.wait_for(5)
    server.stop()
    server.start()  # same port, same store: the stream and the durable consumer survive
    for number in range(5):  # a publish lost while nats-py reconnects is sent again (same id: stored once)
        for _ in range(10):
            with contextlib.suppress(NatsTimeoutError):
                await js.publish(
                    "dvc.events.test", f"after-{number}".encode(), timeout=2, headers={"Nats-Msg-Id": str(number)}
                )
                break
    await recorder.wait_for(10)

    assert [text for _, text in recorder.applied] == [f"before-{n}" for n in range(5)] + [
        f"after-{n}" for n in range(5)
    ]
    task.cancel()
    await client.close()
    server.stop()


async def test_consumer_is_created_again_when_someone_deletes_it(client: Client, lean: bool) -> None:
    js = client.jetstream()
    await js.publish("dvc.events.test", b"first")
    recorder = Recorder()
    consumer = _pull_consumer(client, "deleted", recorder, lean)
    consumer.retry_seconds = 0.2
    task = asyncio.create_task(consumer.run())
    await recorder.wait_for(1)
    await js.delete_consumer("DVC_EVENTS", "deleted")
    await asyncio.sleep(0.5)
    await js.publish("dvc.events.test", b"second")
    async with asyncio.timeout(30):  # a pull to a missing consumer goes unanswered for ~5 s first
        while "second" not in [text for _, text in recorder.applied]:
            recorder.changed.clear()
            await recorder.changed.wait()

    # the new durable starts from the stream's first message: services skip what they already applied
    assert [text for _, text in recorder.applied][-2:] == ["first", "second"]
    assert (await js.consumer_info("DVC_EVENTS", "deleted")).config.durable_name == "deleted"
    task.cancel()


async def test_events_are_applied_after_a_delayed_redelivery_when_the_database_was_down(
    client: Client, lean: bool
) -> None:
    js = client.jetstream()
    await js.publish("dvc.events.test", b"survives")
    recorder = Recorder()
    failures = [RuntimeError("database unavailable")]  # the first attempt fails, as a dropped connection would
    record = recorder.apply

    async def apply(items: Sequence[tuple[int, str]]) -> None:
        if failures:
            raise failures.pop()
        await record(items)

    recorder.apply = apply  # type: ignore[method-assign]
    task = asyncio.create_task(_pull_consumer(client, "recovers", recorder, lean).run())
    await recorder.wait_for(1)

    assert recorder.applied == [(1, "survives")]
    assert recorder.dead_lettered == 0
    task.cancel()

"""A durable JetStream pull consumer for high-volume streams, without FastStream's per-message fetch loop.

FastStream's `PullSub(batch=True)` uses nats-py's `fetch`, which awaits each message of a batch; it tops out
around 18,000 messages/s here, below what the indicators projection applies. This loop sends the JetStream
pull request itself, collects the batch as it arrives (over a lean connection of its own,
`services.runtime.nats.wire`, or nats-py's when that cannot be used), and fetches (and decodes) the next batch
while the current one is applied, so the decoding overlaps the database's work. Order is kept: one pull
request is outstanding at a time and batches are applied one after the other.

Latency stays low when traffic is light: a no-wait request takes what is there now; only when nothing is
there does a long poll wait for the first message (the consumer's `batch_timeout`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js.errors import Error as JetStreamError

from services.runtime.nats.batch_consumer import ConsumerHealth, DurableConsumer
from services.runtime.nats.consuming import BatchOutcome, BatchProcessor, Decoded
from services.runtime.nats.wire import WireConnection, WireError
from services.runtime.nats.wire import supported as wire_supported
from services.runtime.waiting import raise_if_cancelled, wait_event

T = TypeVar("T")
logger = logging.getLogger("dvc_pulse.pulling")
_REQUEST_ENDED = {"404", "408", "409"}  # no messages / request expired / consumer deleted or limits changed
Publish = Callable[[str, bytes, str], Awaitable[None]]  # subject, payload, reply


def stream_sequence(message: Msg) -> int | None:
    """The stream sequence in a JetStream message's reply subject (`$JS.ACK.<stream>.<consumer>.<delivered>.
    <stream seq>...`, or the 12-token form with domain and account), without building nats-py's Metadata."""
    tokens = (message.reply or "").split(".")
    if len(tokens) == 9 and tokens[0] == "$JS":
        return int(tokens[5])
    if len(tokens) >= 11 and tokens[0] == "$JS":
        return int(tokens[7])
    return None


class PullRequest:
    """Collects the replies of this consumer's pull requests; one request at a time. `deliver` is fed by the
    transport: nats-py's subscription callback (`open_nats_request`) or the lean reader (`open_wire_request`)."""

    def __init__(self, publish: Publish, stream: str, durable: str, inbox: str, transport: str) -> None:
        self.publish = publish
        self.transport = transport  # "lean" or "nats-py"
        self.subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.inbox = inbox
        self.closers: list[Callable[[], Awaitable[None]]] = []
        self._received: list[Msg] = []
        self._wanted = 0
        self._ended = asyncio.Event()
        self._lost = False

    def deliver(self, message: Msg | None, status: str | None) -> None:
        if message is not None:
            self._received.append(message)
            if len(self._received) >= self._wanted:
                self._ended.set()
        elif status in _REQUEST_ENDED:
            self._ended.set()
        elif status == "lost":
            self._lost = True
            self._ended.set()
        # 100 (idle heartbeat) and anything else: keep waiting

    async def close(self) -> None:
        for close in self.closers:
            with contextlib.suppress(Exception):
                await close()

    async def next(self, batch: int, *, wait: float | None) -> list[Msg]:
        """Up to `batch` messages: what is there now (`wait=None`), or waiting up to `wait` s for at least one."""
        self._received = []
        self._wanted = batch
        self._ended.clear()
        request: dict[str, object] = {"batch": batch}
        if wait is None:
            request["no_wait"] = True
        else:
            request["expires"] = int(wait * 1_000_000_000)
        await self.publish(self.subject, orjson.dumps(request), self.inbox)
        # The server ends every request (404/408). Silence: a request lost in a reconnect (what came is still
        # good) or a consumer that no longer exists (nothing comes: the caller re-creates it).
        if not await wait_event(self._ended, (wait or 0.0) + 5.0) and not self._received:
            raise ConnectionError("pull request unanswered (consumer deleted or connection lost)")
        if self._lost:
            raise ConnectionError("connection lost while pulling")
        return self._received


async def open_nats_request(client: Client, stream: str, durable: str) -> PullRequest:
    """Pull through nats-py's own connection (works with every connection option)."""

    async def publish(subject: str, payload: bytes, reply: str) -> None:
        await client.publish(subject, payload, reply=reply)

    request = PullRequest(publish, stream, durable, client.new_inbox(), "nats-py")

    async def collect(message: Msg) -> None:
        status = (message.headers or {}).get("Status")
        request.deliver(None if status else message, status)

    subscription = await client.subscribe(request.inbox, cb=collect)
    request.closers.append(subscription.unsubscribe)
    return request


async def open_wire_request(client: Client, stream: str, durable: str) -> PullRequest:
    """Pull through a lean connection of our own (`services.runtime.nats.wire`), ~4x cheaper per message."""
    connection = await WireConnection.open(client, name=f"{durable}-pull")

    async def publish(subject: str, payload: bytes, reply: str) -> None:
        await connection.publish(subject, payload, reply)

    request = PullRequest(publish, stream, durable, client.new_inbox(), "lean")  # nats-py's inbox: its prefix
    connection.subscribe(request.inbox, request.deliver)
    try:
        await connection.ping()  # a subscription the server refuses (permissions) fails here, not later
    except BaseException:
        connection.close()
        raise

    async def close() -> None:
        connection.close()

    request.closers.append(close)
    return request


async def open_request(client: Client, stream: str, durable: str, *, lean: bool = True) -> PullRequest:
    """Pull requests over the lean connection when `lean` and the connection allow it, else over nats-py's; any
    failure of the lean handshake (refused: connection limits, permissions; or cut) falls back to nats-py."""
    if lean and wire_supported(client):
        try:
            return await open_wire_request(client, stream, durable)
        except WireError as error:
            logger.warning("lean pull connection failed (%s); %s pulls through nats-py", error, durable)
    return await open_nats_request(client, stream, durable)


@dataclass
class PullConsumer(Generic[T]):
    """Runs `consumer` until cancelled: fetch + decode the next batch while `processor` applies this one."""

    consumer: DurableConsumer
    connection: Callable[[], Client | None]  # None while the broker is not connected yet
    processor: Callable[[Client], BatchProcessor[T]]
    after_batch: Callable[[Sequence[Msg], BatchOutcome], None] | None = None
    retry_seconds: float = 2.0
    lean: bool = True  # try `services.runtime.nats.wire` first each time the consumer (re)starts
    transport: str = ""  # what the current session pulls through: "lean" or "nats-py"
    task: asyncio.Task[None] | None = field(default=None, init=False)
    declared: asyncio.Event = field(default_factory=asyncio.Event, init=False)  # the durable exists on the server
    declare_wait: float = 5.0

    async def start(self) -> None:
        """Runs until `stop`; waits for the connection itself, so it may start before the broker connected."""
        if self.task is None:
            self.task = asyncio.create_task(self.run(), name=f"consumer-{self.consumer.durable}")
        client = self.connection()
        if client is not None and client.is_connected:
            # Started means declared when NATS is up: a consumer that delivers only new events must not miss
            # those published right after the service started (bounded: a missing stream only delays start-up).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.declared.wait(), self.declare_wait)

    async def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def health(self) -> ConsumerHealth:
        running = self.task is not None and not self.task.done()
        return ConsumerHealth(self.consumer.durable, self.consumer.stream, self.transport, running)

    async def run(self) -> None:
        while True:
            client = self.connection()
            if client is None or not client.is_connected:
                await asyncio.sleep(0.2)
                continue
            try:
                await self._consume(client)
            except asyncio.CancelledError:
                raise
            except (NatsError, JetStreamError, OSError) as error:
                logger.warning(
                    "consumer %s stopped (%s); retrying in %.0f s", self.consumer.durable, error, self.retry_seconds
                )
                await asyncio.sleep(self.retry_seconds)
            except Exception:  # e.g. a dead letter that could not be published: unacked messages come back
                logger.exception("consumer %s failed; retrying in %.0f s", self.consumer.durable, self.retry_seconds)
                await asyncio.sleep(self.retry_seconds)

    async def _consume(self, client: Client) -> None:
        js = client.jetstream()
        config = self.consumer.config()
        if not config.filter_subjects:
            config.filter_subject = self.consumer.subject  # as FastStream declares it: an existing durable matches
        await js.add_consumer(self.consumer.stream, config=config)
        self.declared.set()
        raise_if_cancelled()
        processor = self.processor(client)
        request = await open_request(client, self.consumer.stream, self.consumer.durable, lean=self.lean)
        self.transport = request.transport
        prefetch: asyncio.Task[Decoded[T]] | None = None
        try:
            raise_if_cancelled()
            prefetch = asyncio.create_task(self._fetch(request, processor))
            while True:
                decoded = await prefetch
                prefetch = asyncio.create_task(self._fetch(request, processor))
                if decoded.messages:
                    outcome = await processor.apply_decoded(decoded)
                    if self.after_batch is not None:
                        self.after_batch(decoded.messages, outcome)
        finally:
            if prefetch is not None:
                prefetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await prefetch
            await request.close()

    async def _fetch(self, request: PullRequest, processor: BatchProcessor[T]) -> Decoded[T]:
        size = self.consumer.batch_size
        messages = await request.next(size, wait=None)
        if not messages:  # nothing now: wait for the first one, then take whatever followed it
            messages = await request.next(1, wait=self.consumer.batch_timeout)
            if messages and size > 1:
                messages += await request.next(size - 1, wait=None)
        return processor.decode_all(messages)

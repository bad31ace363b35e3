"""Pipelined JetStream publishing: every message in flight at once, then wait for all acks.

One awaited publish at a time reaches ~6k msg/s here; pipelining reaches ~60k (MEASURED.md).
A timeout does not prove the message was not stored, so callers retry with the same `Nats-Msg-Id`.

The messages of a call go to the connection's buffer through nats-py's public `Client.publish`, and their acks
come back on one wildcard reply subscription per connection, matched by token to a position in the call's batch
(`AckRouter`: one future per call, not per message). nats-py's `publish_async` yields after each message and
parses each ack through dataclass introspection; this path costs about half as much CPU per message. The
ingest's own lean connection (`lean_publishing`) shares the `AckRouter` and writes its commands itself.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import MappingProxyType
from typing import NamedTuple
from weakref import WeakKeyDictionary

import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import PubAck

from services.runtime.nats.outbound import header_block

MSG_ID = "Nats-Msg-Id"
EXPECTED_STREAM = "Nats-Expected-Stream"


class PublishFailed(Exception):
    """JetStream did not acknowledge every message; nothing can be assumed about the unacknowledged ones."""


class OutgoingMessage(NamedTuple):
    """A tuple: built once per event on the ingest's path, where a frozen dataclass costs twice as much."""

    subject: str
    payload: bytes
    msg_id: str
    headers: Mapping[str, str] = MappingProxyType({})


class AckBatch:
    """The replies of one call, in order; `done` resolves once every message has one."""

    def __init__(self, size: int) -> None:
        self.replies: list[Msg | None] = [None] * size
        self.missing = size
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def receive(self, index: int, reply: Msg) -> None:
        if self.replies[index] is None:
            self.replies[index] = reply
            self.missing -= 1
            if not self.missing and not self.done.done():
                self.done.set_result(None)

    def acks(self) -> list[PubAck]:
        """Once `done`: the acks in order (PublishFailed if JetStream refused a message)."""
        return [pub_ack(reply) for reply in self.replies if reply is not None]

    def fail(self, error: PublishFailed) -> None:
        if not self.done.done():
            self.done.set_exception(error)


class AckRouter:
    """The acks of one connection's publishes: each reply subject `<inbox>.<token>` names a batch and a position.
    Serves nats-py's connections (one wildcard subscription each) and the ingest's lean connection."""

    def __init__(self, inbox: str) -> None:
        self.prefix = inbox + "."
        self.pending: dict[str, tuple[AckBatch, int]] = {}
        self.tokens = itertools.count()

    def expect(self, batch: AckBatch) -> list[str]:
        """One reply token per message of `batch`, registered before anything is sent."""
        tokens = [str(next(self.tokens)) for _ in range(len(batch.replies))]
        for index, token in enumerate(tokens):
            self.pending[token] = (batch, index)
        return tokens

    def forget(self, tokens: Sequence[str]) -> None:
        for token in tokens:
            self.pending.pop(token, None)

    def deliver(self, reply: Msg) -> None:
        waiting = self.pending.pop(reply.subject[len(self.prefix) :], None)
        if waiting is not None:
            batch, index = waiting
            batch.receive(index, reply)

    def fail_all(self, error: PublishFailed) -> None:
        for batch, _ in list(self.pending.values()):
            batch.fail(error)
        self.pending.clear()


_routers: WeakKeyDictionary[Client, asyncio.Task[AckRouter]] = WeakKeyDictionary()


async def _start_router(client: Client) -> AckRouter:
    router = AckRouter(client.new_inbox())

    async def on_reply(reply: Msg) -> None:
        router.deliver(reply)

    await client.subscribe(router.prefix + "*", cb=on_reply)
    return router


async def _router(client: Client) -> AckRouter:
    task = _routers.get(client)
    if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
        task = asyncio.ensure_future(_start_router(client))
        _routers[client] = task
    return await asyncio.shield(task)


def pub_ack(reply: Msg) -> PubAck:
    if reply.headers and reply.headers.get("Status") == "503":
        raise PublishFailed("no stream listens on this subject (no responders)")
    document = orjson.loads(reply.data)
    error = document.get("error")
    if error is not None:
        raise PublishFailed(f"JetStream refused the message: {error.get('description')} (code {error.get('code')})")
    return PubAck(
        stream=document["stream"],
        seq=document["seq"],
        domain=document.get("domain"),
        duplicate=document.get("duplicate"),
    )


async def publish_all(
    js: JetStreamContext,
    messages: Sequence[OutgoingMessage],
    *,
    timeout: float = 5.0,
    expected_stream: str | None = None,
) -> list[PubAck]:
    """Publish all messages pipelined; returns the acks in order or raises PublishFailed."""
    client: Client = js._nc
    tokens: list[str] = []
    batch = AckBatch(len(messages))
    try:
        with publish_failures():
            async with asyncio.timeout(timeout):
                router = await _router(client)
                tokens = router.expect(batch)
                for message, token in zip(messages, tokens, strict=True):
                    await client.publish(
                        message.subject,
                        message.payload,
                        reply=router.prefix + token,
                        headers=header_map(message, expected_stream),
                    )
                if messages:
                    await batch.done
            return batch.acks()
    finally:
        task = _routers.get(client)
        if task is not None and task.done() and not task.cancelled() and task.exception() is None:
            task.result().forget(tokens)
        batch.done.cancel()


@contextmanager
def publish_failures() -> Iterator[None]:
    """Any failure of a publish call raised as PublishFailed: nothing can be assumed of the unacknowledged."""
    try:
        yield
    except PublishFailed:
        raise
    except Exception as error:
        raise PublishFailed(f"{type(error).__name__}: {error}".rstrip(": ")) from error


def header_map(message: OutgoingMessage, expected_stream: str | None) -> dict[str, str]:
    headers = {**message.headers, MSG_ID: message.msg_id}
    if expected_stream is not None:
        headers[EXPECTED_STREAM] = expected_stream
    return headers


def message_headers(message: OutgoingMessage, expected_stream: str | None) -> bytes:
    """The encoded header block, for a connection of our own (lean publishing)."""
    return header_block(header_map(message, expected_stream))

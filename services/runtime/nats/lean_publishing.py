"""Pipelined JetStream publishing over a lean connection of our own (`services.runtime.nats.wire`).

Through nats-py, each ack costs ~7 µs of CPU (a regular expression per protocol line, a `Msg` built through
a queue and a task, one coroutine per callback): about a fifth of the ingest's CPU per event. Here the HPUB
commands of a batch leave in one write and the acks of a network read are parsed in one pass. The commands
are those of `publish_all`; the acks are matched by token to a position in the call's batch.

A status reply carries no token: a 503 (no stream listens on a subject) fails every batch in flight, as would
the loss of the connection; either way nothing can be assumed of them and the callers resend (`Nats-Msg-Id`).
Plain `nats://` connections only (`wire.supported`); otherwise, or if the server refuses the lean connection,
`LeanPublishing.publisher` answers None and the caller publishes through nats-py (`publish_all`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import PubAck

from services.runtime.nats.outbound import hpub_command
from services.runtime.nats.publishing import (
    AckBatch,
    AckRouter,
    OutgoingMessage,
    PublishFailed,
    message_headers,
    publish_failures,
)
from services.runtime.nats.wire import WireConnection, WireError, supported

logger = logging.getLogger(__name__)


class LeanPublisher:
    def __init__(self, wire: WireConnection, inbox: str, max_payload: int) -> None:
        self._wire = wire
        self._acks = AckRouter(inbox)
        self._max_payload = max_payload
        self._closed = False

    @classmethod
    async def open(cls, client: Client, name: str) -> LeanPublisher:
        connection = await WireConnection.open(client, name=name)
        publisher = cls(connection, client.new_inbox(), client.max_payload)
        connection.subscribe(publisher._acks.prefix + "*", publisher._deliver)
        try:
            await connection.ping()  # the subscription is in place before any ack can come back
        except BaseException:
            connection.close()
            raise
        return publisher

    @property
    def alive(self) -> bool:
        return not self._closed and not self._wire.lost.done()

    def close(self) -> None:
        self._closed = True
        self._wire.close()

    def _deliver(self, reply: Msg | None, status: str | None) -> None:
        if reply is not None:
            self._acks.deliver(reply)
            return
        reason = "the connection was lost" if status == "lost" else f"status {status} (503: no stream listens)"
        self._acks.fail_all(PublishFailed(f"no ack: {reason}"))

    async def publish(
        self, messages: Sequence[OutgoingMessage], *, timeout: float = 5.0, expected_stream: str | None = None
    ) -> list[PubAck]:
        """As `publish_all`: the acks in order, or PublishFailed."""
        batch = AckBatch(len(messages))
        tokens: list[str] = []
        try:
            with publish_failures():
                tokens = self._acks.expect(batch)
                pairs = zip(messages, tokens, strict=True)
                commands = b"".join(self._command(message, token, expected_stream) for message, token in pairs)
                self._wire.write(commands)
                if messages:
                    async with asyncio.timeout(timeout):
                        await batch.done
                return batch.acks()
        finally:
            self._acks.forget(tokens)
            batch.done.cancel()

    def _command(self, message: OutgoingMessage, token: str, expected_stream: str | None) -> bytes:
        if len(message.payload) > self._max_payload:
            raise PublishFailed(f"a message of {len(message.payload)} bytes exceeds max_payload")
        headers = message_headers(message, expected_stream)
        return hpub_command(message.subject, self._acks.prefix + token, headers, message.payload)


class LeanPublishing:
    """One lean publisher per nats-py connection, opened on first use, reopened once lost; after a refusal,
    nats-py is used for `retry_seconds` before the next attempt."""

    def __init__(self, name: str, retry_seconds: float = 30.0) -> None:
        self._name = name
        self._retry_seconds = retry_seconds
        self._client: Client | None = None
        self._publisher: LeanPublisher | None = None
        self._refused_until = 0.0
        self._lock = asyncio.Lock()

    async def publisher(self, client: Client) -> LeanPublisher | None:
        current = self._publisher
        if current is not None and current.alive and self._client is client:
            return current
        if not supported(client) or time.monotonic() < self._refused_until:
            return None
        async with self._lock:
            if self._publisher is not None and self._publisher.alive and self._client is client:
                return self._publisher
            self.close()
            try:
                self._publisher, self._client = await LeanPublisher.open(client, self._name), client
            except (WireError, OSError, TimeoutError) as error:
                self._refused_until = time.monotonic() + self._retry_seconds
                logger.warning("lean publishing connection failed (%s); publishing through nats-py", error)
                return None
        return self._publisher

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
        self._publisher, self._client = None, None

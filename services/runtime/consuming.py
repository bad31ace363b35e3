"""The processing rules of DESIGN §7 for a batch of JetStream messages, shared by every consumer.

A service supplies `decode` (bytes -> item, raising `InvalidMessage` for bad input) and `apply` (one DB
transaction for the whole list, recording processed identities). This module acks after `apply`
returns, nacks with backoff on failure, isolates a poison message by retrying one at a time, and sends
invalid or exhausted messages to DVC_DLQ with the reason. A database that cannot be reached (refused,
dropped, locked) is nobody's poison: the batch is held and retried until the database answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from services.contracts.subjects import dlq_subject
from services.runtime.publishing import OutgoingMessage, publish_all

T = TypeVar("T")
logger = logging.getLogger("dvc_pulse.consuming")


class InvalidMessage(Exception):
    """The message can never be processed (malformed, unknown type): dead-letter it at once."""


def backoff_seconds(deliveries: int, base: float = 0.5, cap: float = 60.0) -> float:
    """Exponential backoff with full jitter for the n-th delivery (1-based)."""
    ceiling: float = min(cap, base * 2 ** max(0, deliveries - 1))
    return random.uniform(ceiling / 2, ceiling)


HELD_RETRY_CAP_SECONDS = 5.0  # well under any ack_wait: each retry also resets the messages' ack timers


def store_unavailable(error: BaseException) -> bool:
    """True when the database could not be reached (refused, dropped, timed out, locked): a fault of the
    infrastructure that says nothing about the message, so it must not count towards its dead-lettering."""
    if isinstance(error, OSError | TimeoutError):
        return True
    return isinstance(error, DBAPIError) and (
        error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    )


@dataclass
class BatchOutcome:
    applied: int = 0
    dead_lettered: int = 0
    retried: int = 0


@dataclass
class Decoded(Generic[T]):
    """A batch in stream order: every message, the decoded ones with their item, the invalid ones with why."""

    messages: list[Msg]
    items: list[tuple[Msg, T]] = field(default_factory=list)
    invalid: list[tuple[Msg, str]] = field(default_factory=list)


@dataclass
class BatchProcessor(Generic[T]):
    service: str
    consumer: str
    js: JetStreamContext
    decode: Callable[[Msg], T]
    apply: Callable[[Sequence[T]], Awaitable[None]]
    max_deliver: int

    async def process(self, messages: Sequence[Msg]) -> BatchOutcome:
        return await self.apply_decoded(self.decode_all(messages))

    def decode_all(self, messages: Sequence[Msg]) -> Decoded[T]:
        """Decode a batch (no I/O, so it can run while the previous batch is being applied)."""
        result: Decoded[T] = Decoded(list(messages))
        for message in messages:
            try:
                result.items.append((message, self.decode(message)))
            except InvalidMessage as error:
                result.invalid.append((message, str(error)))
        return result

    async def apply_decoded(self, batch: Decoded[T]) -> BatchOutcome:
        outcome = BatchOutcome()
        for message, reason in batch.invalid:
            await self.dead_letter(message, f"invalid: {reason}")
            outcome.dead_lettered += 1
        decoded = batch.items
        if not decoded:
            return outcome
        try:
            await self._apply_held([item for _, item in decoded], [message for message, _ in decoded])
        except Exception:
            if len(decoded) == 1:
                await self._retry_or_dead_letter(decoded[0][0], outcome)
                return outcome
            logger.warning("batch of %d failed, applying one at a time", len(decoded), exc_info=True)
            for message, item in decoded:
                await self._apply_one(message, item, outcome)
            return outcome
        for message, _ in decoded:
            await message.ack()
        outcome.applied += len(decoded)
        return outcome

    async def _apply_held(self, items: list[T], messages: list[Msg]) -> None:
        """`apply`, retried with backoff while the store is unreachable. The messages stay with us (their ack
        timers reset at each retry), so no redelivery counts towards `max_deliver` and none is dead-lettered
        for an outage (issue 11: the database unreachable for 20 s must lose nothing)."""
        attempt = 0
        while True:
            try:
                await self.apply(items)
                return
            except Exception as error:
                if not store_unavailable(error):
                    raise
                attempt += 1
                # the type only: a SQLAlchemy message carries the statement's parameters (names, phones)
                logger.warning(
                    "store unavailable (%s); %d messages held, retry %d", type(error).__name__, len(items), attempt
                )
            for message in messages:
                with contextlib.suppress(Exception):  # NATS down too: the messages come back after ack_wait
                    await message.in_progress()
            await asyncio.sleep(backoff_seconds(attempt, base=0.25, cap=HELD_RETRY_CAP_SECONDS))

    async def _apply_one(self, message: Msg, item: T, outcome: BatchOutcome) -> None:
        try:
            await self._apply_held([item], [message])
        except Exception:
            await self._retry_or_dead_letter(message, outcome)
            return
        await message.ack()
        outcome.applied += 1

    async def _retry_or_dead_letter(self, message: Msg, outcome: BatchOutcome) -> None:
        deliveries = message.metadata.num_delivered
        logger.warning("message failed on delivery %d", deliveries, exc_info=True)
        if deliveries >= self.max_deliver - 1:
            await self.dead_letter(message, f"failed {deliveries} deliveries")
            outcome.dead_lettered += 1
            return
        await message.nak(delay=backoff_seconds(deliveries))
        outcome.retried += 1

    async def dead_letter(self, message: Msg, reason: str) -> None:
        """Publish the original bytes to DVC_DLQ with where it came from and why, then ack it.

        The original's own headers travel along (except `Nats-*`; its `Nats-Msg-Id` as `Dvc-Original-Msg-Id`)
        so that `dvc-pulse dlq redrive` can re-publish it as it was."""
        metadata = message.metadata
        sequence = metadata.sequence.stream if metadata.sequence else 0
        stream = metadata.stream or "unknown"
        original = message.headers or {}
        carried = {name: value for name, value in original.items() if not name.startswith("Nats-")}
        if original.get("Nats-Msg-Id"):
            carried["Dvc-Original-Msg-Id"] = original["Nats-Msg-Id"]
        headers = {
            **carried,
            "Dvc-Original-Subject": message.subject,
            "Dvc-Original-Stream": stream,
            "Dvc-Original-Sequence": str(sequence),
            "Dvc-Consumer": self.consumer,
            "Dvc-Error": reason[:1000],
        }
        await publish_all(
            self.js,
            [OutgoingMessage(dlq_subject(self.service), message.data, f"{stream}:{sequence}:{self.consumer}", headers)],
        )
        await message.ack()

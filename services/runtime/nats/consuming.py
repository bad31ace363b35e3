"""The processing rules of design §7 for a batch of JetStream messages, shared by every consumer.

A service supplies `decode` (bytes -> item, raising `InvalidMessage` for bad input) and `apply` (one DB
transaction for the whole list, recording processed identities). This module acks after `apply`
returns, nacks with backoff on failure, isolates a poison message by retrying one at a time, and sends
invalid or exhausted messages to DVC_DLQ with the reason and the exception's type. A database that cannot be
reached (refused, dropped, locked) is nobody's poison: the batch is held and retried until the database answers.

Decoding never drops a batch: ANY exception while decoding one message (not only `InvalidMessage`: a value
Python cannot represent raises OverflowError, a decoder bug anything) dead-letters that message alone and
its neighbours are applied. A `ConsumerWatch`, when given, sees every outcome (metrics, readiness).
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
from services.runtime.nats.consumer_watch import ConsumerWatch
from services.runtime.nats.dead_letters import (
    CONSUMER,
    ERROR,
    ERROR_TYPE,
    ORIGINAL_MSG_ID,
    ORIGINAL_SEQUENCE,
    ORIGINAL_STREAM,
    ORIGINAL_SUBJECT,
)
from services.runtime.nats.publishing import OutgoingMessage, publish_all

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


def delivery_count(message: Msg) -> int:
    """How many times JetStream delivered the message, read from its reply subject (`$JS.ACK.<stream>.
    <consumer>.<delivered>...`, or the 12-token form with domain and account) without nats-py's Metadata."""
    tokens = (message.reply or "").split(".")
    if tokens[0] != "$JS" or (len(tokens) != 9 and len(tokens) < 11):
        return 1
    text = tokens[4] if len(tokens) == 9 else tokens[6]
    return int(text) if text.isdigit() else 1


def root_cause(error: BaseException) -> BaseException:
    """The error an operator looks for: OverflowError rather than the SQLAlchemy StatementError wrapping it (whose
    text holds the statement's parameters), the ValidationError an `InvalidMessage` was raised `from`."""
    while error.__cause__ is not None:
        error = error.__cause__
    return error


def error_type(error: BaseException) -> str:
    return type(root_cause(error)).__name__


def describe(error: BaseException) -> str:
    cause = root_cause(error)
    return f"{type(cause).__name__}: {cause}"


@dataclass(frozen=True)
class Rejection:
    """Why a message is dead-lettered: the `Dvc-Error` text and the `Dvc-Error-Type` exception name."""

    reason: str
    error_type: str


@dataclass
class BatchOutcome:
    applied: int = 0
    dead_lettered: int = 0
    retried: int = 0
    last_error: str = ""  # of the latest apply that failed, for the readiness reason

    @property
    def moved_on(self) -> bool:
        """Something was settled (applied or dead-lettered), or nothing had to be retried."""
        return bool(self.applied or self.dead_lettered or not self.retried)


@dataclass
class Decoded(Generic[T]):
    """A batch in stream order: every message, the decoded ones with their item, the invalid ones with why."""

    messages: list[Msg]
    items: list[tuple[Msg, T]] = field(default_factory=list)
    invalid: list[tuple[Msg, Rejection]] = field(default_factory=list)


@dataclass
class BatchProcessor(Generic[T]):
    service: str
    consumer: str
    js: JetStreamContext
    decode: Callable[[Msg], T]
    apply: Callable[[Sequence[T]], Awaitable[None]]
    max_deliver: int
    watch: ConsumerWatch | None = None

    async def process(self, messages: Sequence[Msg]) -> BatchOutcome:
        return await self.apply_decoded(self.decode_all(messages))

    def decode_all(self, messages: Sequence[Msg]) -> Decoded[T]:
        """Decode a batch (no I/O, so it can run while the previous batch is being applied)."""
        result: Decoded[T] = Decoded(list(messages))
        again = 0
        for message in messages:
            try:
                result.items.append((message, self.decode(message)))
            except InvalidMessage as error:
                result.invalid.append((message, Rejection(f"invalid: {error}", error_type(error))))
            except Exception as error:  # one message's bad value never holds back its batch
                result.invalid.append((message, Rejection(f"invalid: {describe(error)}", error_type(error))))
            if self.watch is not None and delivery_count(message) > 1:
                again += 1
        if self.watch is not None:
            self.watch.received_again(again)
        return result

    async def apply_decoded(self, batch: Decoded[T]) -> BatchOutcome:
        try:
            outcome = await self._apply_decoded(batch)
        except Exception as error:  # e.g. DVC_DLQ unreachable: the unacked messages come back
            if self.watch is not None:
                self.watch.batch_failed(describe(error))
            raise
        if self.watch is not None:
            if outcome.moved_on:
                self.watch.batch_moved_on(outcome.applied)
            else:
                self.watch.batch_failed(outcome.last_error)
        return outcome

    async def _apply_decoded(self, batch: Decoded[T]) -> BatchOutcome:
        outcome = BatchOutcome()
        for message, rejection in batch.invalid:
            await self.dead_letter(message, rejection)
            outcome.dead_lettered += 1
        decoded = batch.items
        if not decoded:
            return outcome
        try:
            await self._apply_held([item for _, item in decoded], [message for message, _ in decoded])
        except Exception as error:
            if len(decoded) == 1:
                await self._retry_or_dead_letter(decoded[0][0], error, outcome)
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
                if self.watch is not None:  # held is stuck for /readyz too, until the store answers
                    self.watch.batch_failed(f"store unavailable: {type(root_cause(error)).__name__}")
            for message in messages:
                with contextlib.suppress(Exception):  # NATS down too: the messages come back after ack_wait
                    await message.in_progress()
            await asyncio.sleep(backoff_seconds(attempt, base=0.25, cap=HELD_RETRY_CAP_SECONDS))

    async def _apply_one(self, message: Msg, item: T, outcome: BatchOutcome) -> None:
        try:
            await self._apply_held([item], [message])
        except Exception as error:
            await self._retry_or_dead_letter(message, error, outcome)
            return
        await message.ack()
        outcome.applied += 1

    async def _retry_or_dead_letter(self, message: Msg, error: Exception, outcome: BatchOutcome) -> None:
        deliveries = message.metadata.num_delivered
        outcome.last_error = describe(error)
        logger.warning("message failed on delivery %d", deliveries, exc_info=error)
        if deliveries >= self.max_deliver - 1:
            reason = f"failed {deliveries} deliveries (last: {describe(error)})"
            await self.dead_letter(message, Rejection(reason, error_type(error)))
            outcome.dead_lettered += 1
            return
        await message.nak(delay=backoff_seconds(deliveries))
        outcome.retried += 1

    async def dead_letter(self, message: Msg, rejection: Rejection) -> None:
        """Publish the original bytes to DVC_DLQ with where it came from and why, then ack it.

        The original's own headers travel along (except `Nats-*`; its `Nats-Msg-Id` as `Dvc-Original-Msg-Id`)
        so that `dvc-pulse dlq redrive` can re-publish it as it was."""
        metadata = message.metadata
        sequence = metadata.sequence.stream if metadata.sequence else 0
        stream = metadata.stream or "unknown"
        original = message.headers or {}
        carried = {name: value for name, value in original.items() if not name.startswith("Nats-")}
        if original.get("Nats-Msg-Id"):
            carried[ORIGINAL_MSG_ID] = original["Nats-Msg-Id"]
        headers = {
            **carried,
            ORIGINAL_SUBJECT: message.subject,
            ORIGINAL_STREAM: stream,
            ORIGINAL_SEQUENCE: str(sequence),
            CONSUMER: self.consumer,
            ERROR: rejection.reason[:1000],
            ERROR_TYPE: rejection.error_type,
        }
        await publish_all(
            self.js,
            [OutgoingMessage(dlq_subject(self.service), message.data, f"{stream}:{sequence}:{self.consumer}", headers)],
        )
        await message.ack()
        if self.watch is not None:
            self.watch.dead_lettered()

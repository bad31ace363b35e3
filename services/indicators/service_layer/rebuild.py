"""Rebuild the projections from DVC_EVENTS: replay from the first message into shadow tables
(`indicators_rebuild_*`), swap them in atomically, then catch up with what arrived meanwhile.

The replay uses the same `apply_batch` as the live consumer (through `RebuildTarget`), so the result equals the
incremental one. The swap copies the shadow rows into the live tables in ONE transaction (keeping the
live tables' names, indexes and Alembic history) while holding the apply lock, so the live consumer
waits for it; the catch-up applies the messages stored after the replay's end (already-recorded events
are skipped by the dedup table), so nothing the live consumer applied meanwhile is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from nats.aio.msg import Msg

from services.indicators.service_layer.messages import AppliedBatch, Incoming
from services.runtime.nats.pulling import stream_sequence

logger = logging.getLogger("dvc_pulse.indicators.rebuild")
Progress = Callable[[int, int], None]  # (messages read so far, messages to read)
Apply = Callable[[Sequence[Incoming]], Awaitable[AppliedBatch]]
Decode = Callable[[Msg], Incoming]


class EventSource(Protocol):
    async def bounds(self) -> tuple[int, int]:
        """First and last sequence stored in DVC_EVENTS now."""
        ...

    def read(self, first: int, last: int, batch_size: int) -> AsyncGenerator[list[Msg], None]: ...


class RebuildTarget(Protocol):
    async def create_shadow(self) -> Apply:
        """Fresh shadow projections; applies batches to them."""
        ...

    async def swap_in(self) -> None:
        """Replace the live rows with the shadow rows in one transaction, then drop the shadow."""
        ...

    def live(self) -> Apply:
        """Applies batches to the live projections."""
        ...


@dataclass
class RebuildResult:
    messages: int = 0
    applied: int = 0
    invalid: int = 0
    caught_up: int = 0
    last_sequence: int = 0


@dataclass
class _Batch:
    items: list[Incoming]
    messages: int
    invalid: int
    last_sequence: int


async def _next_batch(batches: AsyncGenerator[list[Msg], None], last_sequence: int, decode: Decode) -> _Batch | None:
    """Read and decode the next batch (run as a task, so it overlaps the database's work on the previous one)."""
    messages = await anext(batches, None)
    if messages is None:
        return None
    batch = _Batch([], 0, 0, 0)
    for message in messages:
        sequence = stream_sequence(message) or 0
        if sequence > last_sequence:
            break
        batch.messages += 1
        batch.last_sequence = sequence
        try:
            batch.items.append(decode(message))
        except Exception:  # what the live consumer dead-letters (OverflowError too) is skipped
            batch.invalid += 1
    return batch


async def replay(
    batches: AsyncGenerator[list[Msg], None],
    decode: Decode,
    apply: Apply,
    *,
    first_sequence: int,
    last_sequence: int,
    progress: Progress | None = None,
) -> RebuildResult:
    """Apply stream messages [first_sequence, last_sequence], batch by batch."""
    result = RebuildResult(last_sequence=first_sequence - 1)
    total = max(0, last_sequence - first_sequence + 1)
    upcoming = asyncio.create_task(_next_batch(batches, last_sequence, decode))
    try:
        while (batch := await upcoming) is not None:
            upcoming = asyncio.create_task(_next_batch(batches, last_sequence, decode))
            result.messages += batch.messages
            result.invalid += batch.invalid
            result.last_sequence = max(result.last_sequence, batch.last_sequence)
            if batch.items:
                result.applied += (await apply(batch.items)).new_events
            if progress is not None:
                progress(min(result.messages, total), total)
    finally:
        upcoming.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await upcoming
        await batches.aclose()
    return result


async def rebuild_projections(
    source: EventSource, target: RebuildTarget, decode: Decode, *, batch_size: int, progress: Progress | None = None
) -> RebuildResult:
    """Replay everything into fresh tables, swap them in, catch up with what arrived meanwhile."""
    first, last = await source.bounds()
    result = await replay(
        source.read(first, last, batch_size),
        decode,
        await target.create_shadow(),
        first_sequence=first,
        last_sequence=last,
        progress=progress,
    )
    await target.swap_in()
    _first, newest = await source.bounds()
    catch_up = await replay(
        source.read(result.last_sequence + 1, newest, batch_size),
        decode,
        target.live(),
        first_sequence=result.last_sequence + 1,
        last_sequence=newest,
    )
    result.caught_up = catch_up.applied
    result.messages += catch_up.messages
    result.invalid += catch_up.invalid
    return result

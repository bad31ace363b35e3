"""Rebuild the projections from DVC_EVENTS: replay from the first message into shadow tables
(`indicators_rebuild_*`), swap them in atomically, then catch up with what arrived meanwhile.

The replay uses the same `apply_batch` as the live consumer, so the result equals the
incremental one. The swap copies the shadow rows into the live tables in ONE transaction (keeping the
live tables' names, indexes and Alembic history) while holding the apply lock, so the live consumer
waits for it; the catch-up applies the messages stored after the replay's end (already-recorded events
are skipped by the dedup table), so nothing the live consumer applied meanwhile is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from sqlalchemy import MetaData, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.contracts.streams import EVENTS
from services.contracts.subjects import EVENTS_PREFIX
from services.indicators.adapters.calendar_file import load_overrides
from services.indicators.adapters.migrate import upgrade
from services.indicators.adapters.store import APPLY_LOCK_ID, SqlProjections
from services.indicators.adapters.stream_reader import read_range
from services.indicators.adapters.tables import REBUILD_PREFIX, TABLES, Tables, build_tables
from services.indicators.adapters.unit_of_work import SqlUnitOfWork
from services.indicators.domain.calendar import WorkingCalendar, build_calendar
from services.indicators.entrypoints.subscribers import decode
from services.indicators.service_layer.messages import Incoming
from services.indicators.service_layer.projecting import apply_batch
from services.indicators.settings import Settings
from services.runtime.db import create_engine, create_session_factory
from services.runtime.nats.pulling import stream_sequence

logger = logging.getLogger("dvc_pulse.indicators.rebuild")
Progress = Callable[[int, int], None]  # (messages read so far, messages to read)


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


async def _next_batch(batches: AsyncGenerator[list[Msg], None], last_sequence: int) -> _Batch | None:
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
    connection: Client,
    engine: AsyncEngine,
    tables: Tables,
    calendar: WorkingCalendar,
    consumer: str,
    *,
    first_sequence: int,
    last_sequence: int,
    batch_size: int,
    progress: Progress | None = None,
    cache_limit: int = 50_000,
) -> RebuildResult:
    """Apply stream messages [first_sequence, last_sequence] to `tables`, batch by batch."""
    result = RebuildResult(last_sequence=first_sequence - 1)
    projections = SqlProjections(tables, engine.dialect.name, cache_limit)
    sessions = create_session_factory(engine)
    total = max(0, last_sequence - first_sequence + 1)
    batches = read_range(connection, EVENTS.name, f"{EVENTS_PREFIX}.>", first_sequence, last_sequence, batch_size)
    upcoming = asyncio.create_task(_next_batch(batches, last_sequence))
    try:
        while (batch := await upcoming) is not None:
            upcoming = asyncio.create_task(_next_batch(batches, last_sequence))
            result.messages += batch.messages
            result.invalid += batch.invalid
            result.last_sequence = max(result.last_sequence, batch.last_sequence)
            if batch.items:
                uow = SqlUnitOfWork(sessions, projections)
                outcome = await apply_batch(uow, batch.items, consumer=consumer, clock=calendar)
                result.applied += outcome.new_events
            if progress is not None:
                progress(min(result.messages, total), total)
    finally:
        upcoming.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await upcoming
        await batches.aclose()
    return result


async def swap_in(engine: AsyncEngine, shadow: Tables, shadow_metadata: MetaData, live: Tables = TABLES) -> None:
    """Replace the live rows with the shadow rows in one transaction, then drop the shadow tables."""
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({APPLY_LOCK_ID})")
        for live_table, shadow_table in zip(live.all(), shadow.all(), strict=True):
            columns = [column.name for column in live_table.columns]
            await connection.execute(delete(live_table))
            source = select(*(shadow_table.c[name] for name in columns))
            await connection.execute(insert(live_table).from_select(columns, source))
    async with engine.begin() as connection:
        await connection.run_sync(shadow_metadata.drop_all)


async def rebuild(settings: Settings, *, batch_size: int = 1000, progress: Progress | None = None) -> RebuildResult:
    """`dvc-pulse indicators rebuild`: replay everything into fresh tables, swap, catch up."""
    engine = create_engine(settings.resolved_database_url())
    calendar = build_calendar(
        settings.timezone,
        settings.working_hours,
        load_overrides(settings.calendar_overrides),
        settings.calendar_country,
    )
    connection = await nats.connect(settings.nats_servers, connect_timeout=5, **settings.cli_nats_options())
    try:
        await upgrade(engine)
        shadow_metadata = MetaData()
        shadow = build_tables(shadow_metadata, REBUILD_PREFIX)
        async with engine.begin() as db:
            await db.run_sync(shadow_metadata.drop_all)
            await db.run_sync(shadow_metadata.create_all)
            for index in shadow.dossiers.indexes:  # read-side only; the live tables keep theirs through the swap
                await db.run_sync(index.drop)
        js = connection.jetstream()
        info = await js.stream_info(EVENTS.name)
        first, last = info.state.first_seq, info.state.last_seq
        result = await replay(
            connection,
            engine,
            shadow,
            calendar,
            settings.consumer,
            first_sequence=first,
            last_sequence=last,
            batch_size=batch_size,
            progress=progress,
            cache_limit=settings.rebuild_state_cache_size,
        )
        await swap_in(engine, shadow, shadow_metadata)
        newest = (await js.stream_info(EVENTS.name)).state.last_seq
        catch_up = await replay(
            connection,
            engine,
            TABLES,
            calendar,
            settings.consumer,
            first_sequence=result.last_sequence + 1,
            last_sequence=newest,
            batch_size=batch_size,
        )
        result.caught_up = catch_up.applied
        result.messages += catch_up.messages
        result.invalid += catch_up.invalid
        return result
    finally:
        await connection.close()
        await engine.dispose()

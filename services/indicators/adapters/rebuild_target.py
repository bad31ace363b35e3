"""The rebuild's SQL side: shadow tables (`indicators_rebuild_*`) filled by the same unit of work as the
live consumer, swapped into the live tables in ONE transaction holding the apply lock; and its stream side."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

from nats.aio.client import Client
from nats.aio.msg import Msg
from sqlalchemy import MetaData, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.contracts.streams import EVENTS
from services.contracts.subjects import EVENTS_PREFIX
from services.indicators.adapters.store import APPLY_LOCK_ID, SqlProjections
from services.indicators.adapters.stream_reader import read_range
from services.indicators.adapters.tables import REBUILD_PREFIX, TABLES, Tables, build_tables
from services.indicators.adapters.unit_of_work import SqlUnitOfWork
from services.indicators.domain.calendar import WorkingClock
from services.indicators.service_layer.messages import AppliedBatch, Incoming
from services.indicators.service_layer.projecting import apply_batch
from services.indicators.service_layer.rebuild import Apply
from services.runtime.db import create_session_factory


class NatsEventSource:
    def __init__(self, connection: Client) -> None:
        self.connection = connection

    async def bounds(self) -> tuple[int, int]:
        state = (await self.connection.jetstream().stream_info(EVENTS.name)).state
        return state.first_seq, state.last_seq

    def read(self, first: int, last: int, batch_size: int) -> AsyncGenerator[list[Msg], None]:
        return read_range(self.connection, EVENTS.name, f"{EVENTS_PREFIX}.>", first, last, batch_size)


class SqlRebuildTarget:
    def __init__(self, engine: AsyncEngine, clock: WorkingClock, consumer: str, cache_limit: int = 50_000) -> None:
        self.engine = engine
        self.clock = clock
        self.consumer = consumer
        self.cache_limit = cache_limit
        self.shadow_metadata = MetaData()
        self.shadow = build_tables(self.shadow_metadata, REBUILD_PREFIX)

    async def create_shadow(self) -> Apply:
        async with self.engine.begin() as db:
            await db.run_sync(self.shadow_metadata.drop_all)
            await db.run_sync(self.shadow_metadata.create_all)
            for index in self.shadow.dossiers.indexes:  # read-side only; the live tables keep theirs through the swap
                await db.run_sync(index.drop)
        return self._applier(self.shadow)

    async def swap_in(self) -> None:
        await swap_in(self.engine, self.shadow, self.shadow_metadata)

    def live(self) -> Apply:
        return self._applier(TABLES)

    def _applier(self, tables: Tables) -> Apply:
        projections = SqlProjections(tables, self.engine.dialect.name, self.cache_limit)
        sessions = create_session_factory(self.engine)

        async def apply(items: Sequence[Incoming]) -> AppliedBatch:
            uow = SqlUnitOfWork(sessions, projections)
            return await apply_batch(uow, items, consumer=self.consumer, clock=self.clock)

        return apply


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

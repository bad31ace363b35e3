"""A migrated database and a projection store for store-level tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.contracts.events import parse_event
from services.indicators.adapters.store import SqlProjections
from services.indicators.adapters.tables import TABLES
from services.indicators.adapters.unit_of_work import SqlUnitOfWork
from services.indicators.domain.calendar import WorkingCalendar
from services.indicators.domain.events import to_projected
from services.indicators.service_layer.messages import AppliedBatch, Incoming
from services.indicators.service_layer.projecting import apply_batch

CONSUMER = "indicators"


def incoming(raw: dict[str, Any], sequence: int | None = None) -> Incoming:
    event = parse_event(raw)
    return Incoming(event.source, event.id, to_projected(event), sequence)


class ProjectionStore:
    """The projections of one writer: SQL repositories sharing a state cache, and the clock the fold uses."""

    def __init__(self, projections: SqlProjections, clock: WorkingCalendar) -> None:
        self.projections = projections
        self.clock = clock

    async def apply(
        self, sessions: async_sessionmaker[AsyncSession], items: Sequence[Incoming], consumer: str = CONSUMER
    ) -> AppliedBatch:
        uow = SqlUnitOfWork(sessions, self.projections)
        return await apply_batch(uow, items, consumer=consumer, clock=self.clock)


async def apply(
    sessions: async_sessionmaker[AsyncSession], store: ProjectionStore, raws: Sequence[dict[str, Any]]
) -> AppliedBatch:
    return await store.apply(sessions, [incoming(raw, index + 1) for index, raw in enumerate(raws)])


async def dossier_rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        result = await connection.execute(select(TABLES.dossiers).order_by(TABLES.dossiers.c.dossier_code))
        return [dict(row) for row in result.mappings()]


def new_store(engine: AsyncEngine, calendar: WorkingCalendar) -> ProjectionStore:
    return ProjectionStore(SqlProjections(TABLES, engine.dialect.name), calendar)

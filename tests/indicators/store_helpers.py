"""A migrated database and a projection store for store-level tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.contracts.events import parse_event
from services.indicators.adapters.store import AppliedBatch, Incoming, ProjectionStore
from services.indicators.adapters.tables import TABLES
from services.indicators.domain.calendar import WorkingCalendar
from services.indicators.domain.events import to_projected

CONSUMER = "indicators"


def incoming(raw: dict[str, Any], sequence: int | None = None) -> Incoming:
    event = parse_event(raw)
    return Incoming(event.source, event.id, to_projected(event), sequence)


async def apply(
    sessions: async_sessionmaker[AsyncSession], store: ProjectionStore, raws: Sequence[dict[str, Any]]
) -> AppliedBatch:
    async with sessions.begin() as session:
        return await store.apply(session, [incoming(raw, index + 1) for index, raw in enumerate(raws)], CONSUMER)


async def dossier_rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        result = await connection.execute(select(TABLES.dossiers).order_by(TABLES.dossiers.c.dossier_code))
        return [dict(row) for row in result.mappings()]


def new_store(engine: AsyncEngine, calendar: WorkingCalendar) -> ProjectionStore:
    return ProjectionStore(TABLES, engine.dialect.name, calendar)

"""The read side's SQL adapter: each read on its own connection."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from services.indicators.adapters import queries
from services.indicators.adapters.indicator_counts import indicator_counts
from services.indicators.adapters.metrics import PROCESSING_BUCKETS
from services.indicators.adapters.tables import Tables
from services.indicators.domain.dossier import DossierState
from services.indicators.domain.indicators import Scope
from services.indicators.domain.leaderboard import Performance
from services.indicators.service_layer.read_model import Counts, FieldCount, MetricAggregates


class SqlProjectionReader:
    def __init__(self, engine: AsyncEngine, tables: Tables) -> None:
        self.engine = engine
        self.tables = tables

    async def indicator_counts(self, start: datetime, end: datetime, scope: Scope, now: datetime) -> Counts:
        async with self.engine.connect() as connection:
            return await indicator_counts(connection, self.tables, start, end, scope, now)

    async def performances(
        self, by: str, start: datetime, end: datetime, now: datetime, day_seconds: float, scope: Scope
    ) -> list[Performance]:
        async with self.engine.connect() as connection:
            return await queries.performances(connection, self.tables, by, start, end, now, day_seconds, scope)

    async def fields(self, start: datetime, end: datetime) -> list[FieldCount]:
        async with self.engine.connect() as connection:
            return await queries.fields(connection, self.tables, start, end)

    async def dossier(self, code: str) -> DossierState | None:
        async with self.engine.connect() as connection:
            return await queries.dossier(connection, self.tables, code)

    async def open_dossiers(self) -> list[DossierState]:
        async with self.engine.connect() as connection:
            return await queries.open_dossiers(connection, self.tables)

    async def anomalous_dossiers(self, limit: int) -> list[DossierState]:
        async with self.engine.connect() as connection:
            return await queries.anomalous_dossiers(connection, self.tables, limit)

    async def metric_aggregates(self, start: datetime, end: datetime, at: datetime) -> MetricAggregates:
        async with self.engine.connect() as connection:
            return await queries.metric_aggregates(connection, self.tables, start, end, at, PROCESSING_BUCKETS)

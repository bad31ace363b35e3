"""SQL implementations of the early-warning ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.indicators.adapters import warning_store
from services.indicators.adapters.dossier_counts import procedure_fields
from services.indicators.adapters.paging import accepted_since_condition, dossier_pages, open_condition
from services.indicators.adapters.tables import Tables
from services.indicators.domain.dossier import DossierState
from services.indicators.domain.warning import DossierAlert
from services.indicators.service_layer.warning_ports import PendingAlert
from services.runtime.db import SessionUnitOfWork


class SqlAlertRepository:
    def __init__(self, session: AsyncSession, tables: Tables) -> None:
        self.session = session
        self.tables = tables

    async def raised_ids(self, dossier_codes: Iterable[str]) -> set[str]:
        return await warning_store.raised_ids(await self.session.connection(), dossier_codes)

    async def record(self, alerts: Sequence[DossierAlert]) -> None:
        await warning_store.record_alerts(self.session, alerts)

    async def mark_published(self, alert_ids: Sequence[str], at: datetime) -> None:
        await warning_store.mark_published(self.session, alert_ids, at)


class SqlWarningUnitOfWork(SessionUnitOfWork):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], tables: Tables) -> None:
        self.sessions = sessions
        self.tables = tables

    async def __aenter__(self) -> Self:
        self.session = self.sessions()
        self.alerts = SqlAlertRepository(self.session, self.tables)
        return self


class SqlWarningReader:
    def __init__(self, engine: AsyncEngine, tables: Tables) -> None:
        self.engine = engine
        self.tables = tables

    def training_dossier_pages(self, accepted_since: datetime) -> AsyncIterator[list[DossierState]]:
        return dossier_pages(self.engine, self.tables, accepted_since_condition(self.tables, accepted_since))

    def open_dossier_pages(self) -> AsyncIterator[list[DossierState]]:
        return dossier_pages(self.engine, self.tables, open_condition(self.tables))

    async def procedure_fields(self) -> dict[str, str]:
        async with self.engine.connect() as connection:
            return await procedure_fields(connection, self.tables)

    async def pending(self, limit: int) -> list[PendingAlert]:
        async with self.engine.connect() as connection:
            return await warning_store.pending(connection, limit)

    async def alert_counts(self) -> tuple[dict[str, int], int]:
        async with self.engine.connect() as connection:
            return await warning_store.alert_counts(connection)

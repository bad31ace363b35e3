"""The SQL unit of work of the projections: one session, one transaction, holding the projection lock."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.indicators.adapters.store import (
    SqlCatalog,
    SqlDossiers,
    SqlEventLog,
    SqlPositions,
    SqlProjections,
    lock_projections,
    token,
)
from services.indicators.domain.stream_position import StreamPosition
from services.runtime.db import SessionUnitOfWork


class SqlUnitOfWork(SessionUnitOfWork):
    """Single use: `async with SqlUnitOfWork(...) as uow: ...; await uow.commit()`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], projections: SqlProjections) -> None:
        self.sessions = sessions
        self.projections = projections

    async def __aenter__(self) -> Self:
        self.session = self.sessions()
        await lock_projections(self.session, self.projections.partition)
        projections = self.projections
        self.events = SqlEventLog(self.session, projections)
        self.dossiers = SqlDossiers(self.session, projections)
        self.catalog = SqlCatalog(self.session, projections)
        self.positions = SqlPositions(self.session, projections, self._trust_cache_if_unchanged)
        return self

    async def commit(self) -> None:
        await super().commit()
        if self.positions.written is not None:
            self.projections.cache.remember(self.dossiers.saved, self.positions.written)

    def _trust_cache_if_unchanged(self, position: StreamPosition | None) -> None:
        cache = self.projections.cache
        cache.validate(None if position is None else token(position))
        cache.begin()
        self.dossiers.use_cache = True


class SqlUnitsOfWork:
    """A fresh unit of work per batch, sharing the prepared SQL and the state cache."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], projections: SqlProjections) -> None:
        self.sessions = sessions
        self.projections = projections

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, self.projections)

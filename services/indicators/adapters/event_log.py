"""Read side of `indicators_events`: one dossier's events in time order (personal data was never stored)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.indicators.adapters.tables import Tables


@dataclass(frozen=True)
class StoredEvent:
    type: str
    time: datetime
    data: dict[str, Any]


async def dossier_events(connection: AsyncConnection, tables: Tables, code: str, limit: int) -> list[StoredEvent]:
    e = tables.events.c
    query = (
        select(e.type, e.time, e.data)
        .where(e.kind == "dossier", e.subject_key == code)
        .order_by(e.time, e.type)
        .limit(limit)
    )
    rows = (await connection.execute(query)).all()
    return [StoredEvent(str(row.type), row.time, dict(row.data or {})) for row in rows]

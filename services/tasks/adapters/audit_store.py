"""The audit trail: who changed what, when, with the state before and after (append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tasks.adapters import tables as t
from services.tasks.adapters.rows import aware, jsonable
from services.tasks.domain.access import Principal
from services.tasks.service_layer.messages import AuditEntry


async def record(
    connection: AsyncConnection,
    *,
    at: datetime,
    actor: Principal,
    action: str,
    plan_id: str | None,
    entity: str,
    entity_id: str,
    before: Any,
    after: Any,
) -> None:
    await connection.execute(
        sa.insert(t.audit).values(
            at=at,
            actor=actor.name,
            actor_unit=actor.unit if not actor.admin else "admin",
            action=action,
            plan_id=plan_id,
            entity=entity,
            entity_id=entity_id,
            before=jsonable(before),
            after=jsonable(after),
        )
    )


async def entries(
    connection: AsyncConnection,
    *,
    plan_id: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Newest first; page with `before_id`."""
    query = sa.select(t.audit).order_by(t.audit.c.id.desc()).limit(limit)
    if plan_id is not None:
        query = query.where(t.audit.c.plan_id == plan_id)
    if entity is not None:
        query = query.where(t.audit.c.entity == entity)
    if entity_id is not None:
        query = query.where(t.audit.c.entity_id == entity_id)
    if before_id is not None:
        query = query.where(t.audit.c.id < before_id)
    rows = (await connection.execute(query)).mappings()
    return [
        AuditEntry(
            row["id"],
            aware(row["at"]),
            row["actor"],
            row["actor_unit"],
            row["action"],
            row["plan_id"],
            row["entity"],
            row["entity_id"],
            row["before"],
            row["after"],
        )
        for row in rows
    ]

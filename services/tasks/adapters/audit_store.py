"""The audit trail: who changed what, when, with the state before and after (append-only)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tasks.adapters import tables as t
from services.tasks.adapters.rows import aware, jsonable
from services.tasks.service_layer.messages import AuditEntry, AuditQuery, NewAuditEntry


async def record(connection: AsyncConnection, entry: NewAuditEntry) -> None:
    actor = entry.actor
    await connection.execute(
        sa.insert(t.audit).values(
            at=entry.at,
            actor=actor.name,
            actor_unit=actor.unit if not actor.admin else "admin",
            action=entry.action,
            plan_id=entry.plan_id,
            entity=entry.entity,
            entity_id=entry.entity_id,
            before=jsonable(entry.before),
            after=jsonable(entry.after),
        )
    )


async def entries(connection: AsyncConnection, asked: AuditQuery) -> list[AuditEntry]:
    """Newest first; page with `before_id`."""
    query = sa.select(t.audit).order_by(t.audit.c.id.desc()).limit(asked.limit)
    if asked.plan_id is not None:
        query = query.where(t.audit.c.plan_id == asked.plan_id)
    if asked.entity is not None:
        query = query.where(t.audit.c.entity == asked.entity)
    if asked.entity_id is not None:
        query = query.where(t.audit.c.entity_id == asked.entity_id)
    if asked.before_id is not None:
        query = query.where(t.audit.c.id < asked.before_id)
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

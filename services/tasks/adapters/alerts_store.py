"""Deadline alerts: recorded once (the alert id is the key), published later, marked when JetStream acked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from services.contracts.alerts import TaskAlertRaised
from services.tasks.adapters import tables as t


async def record_new(connection: AsyncConnection, alerts: Sequence[TaskAlertRaised], now: datetime) -> int:
    """Insert the alerts not recorded yet; returns how many were new."""
    if not alerts:
        return 0
    ids = [alert.alert_id for alert in alerts]
    known = set(
        (await connection.execute(sa.select(t.alerts.c.alert_id).where(t.alerts.c.alert_id.in_(ids)))).scalars()
    )
    rows = []
    for alert in alerts:
        if alert.alert_id in known:
            continue
        known.add(alert.alert_id)
        plan_id, _, task_id = alert.task_id.partition(":")
        rows.append(
            {
                "alert_id": alert.alert_id,
                "kind": alert.kind.value,
                "plan_id": plan_id,
                "task_id": task_id,
                "payload": alert.model_dump_json(),
                "created_at": now,
                "published_at": None,
            }
        )
    if not rows:
        return 0
    # another tick or instance may record the same alerts meanwhile: the key decides, nobody fails
    insert = _insert(connection.dialect.name).on_conflict_do_nothing(index_elements=[t.alerts.c.alert_id])
    inserted = (await connection.execute(insert.returning(t.alerts.c.alert_id), rows)).scalars().all()
    return len(inserted)


def _insert(dialect: str) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(t.alerts) if dialect == "postgresql" else sqlite.insert(t.alerts)


async def unpublished(connection: AsyncConnection, limit: int) -> list[TaskAlertRaised]:
    query = (
        sa.select(t.alerts.c.payload)
        .where(t.alerts.c.published_at.is_(None))
        .order_by(t.alerts.c.created_at, t.alerts.c.alert_id)
        .limit(limit)
    )
    return [TaskAlertRaised.model_validate_json(payload) for payload in (await connection.execute(query)).scalars()]


async def mark_published(connection: AsyncConnection, alert_ids: Sequence[str], now: datetime) -> None:
    if alert_ids:
        await connection.execute(
            sa.update(t.alerts).where(t.alerts.c.alert_id.in_(list(alert_ids))).values(published_at=now)
        )


async def counts(connection: AsyncConnection) -> dict[tuple[str, bool], int]:
    """(kind, published) -> number of alerts, for the metrics."""
    query = sa.select(t.alerts.c.kind, t.alerts.c.published_at.is_not(None), sa.func.count()).group_by(
        t.alerts.c.kind, t.alerts.c.published_at.is_not(None)
    )
    return {(kind, bool(published)): int(count) for kind, published, count in (await connection.execute(query)).all()}

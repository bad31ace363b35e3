"""Live indicator values from `dvc.indicators.snapshot` in the database: the processed-message record (for
exactly-once), the plans that compute live values, and the folded rows (the rule is in domain/live.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tasks.adapters import tables as t
from services.tasks.adapters.rows import aware
from services.tasks.domain.live import LiveKey, LivePlan, LiveRow, is_newer
from services.tasks.domain.plan import IndicatorSpec
from services.tasks.service_layer.messages import SnapshotItem


async def seen(connection: AsyncConnection, message_ids: Sequence[str]) -> set[str]:
    known = sa.select(t.processed.c.message_id).where(t.processed.c.message_id.in_(message_ids))
    return set((await connection.execute(known)).scalars())


async def record_processed(connection: AsyncConnection, items: Iterable[SnapshotItem], now: datetime) -> None:
    rows = [{"message_id": item.message_id, "stream_sequence": item.sequence, "processed_at": now} for item in items]
    if rows:
        await connection.execute(sa.insert(t.processed), rows)


async def live_plans(connection: AsyncConnection) -> list[LivePlan]:
    """The plans that take live values (`live_snapshots`, on by default) with at least one live indicator."""
    plans = (await connection.execute(sa.select(t.plans.c.plan_id, t.plans.c.year, t.plans.c.meta))).all()
    query = sa.select(t.indicators.c.plan_id, t.indicators.c.spec).where(
        t.indicators.c.live_code.is_not(None) & t.indicators.c.active.is_(True)
    )
    specs: dict[str, dict[str, IndicatorSpec]] = {}
    for plan_id, raw in (await connection.execute(query)).all():
        spec = IndicatorSpec.model_validate(raw)
        specs.setdefault(plan_id, {})[spec.live_code or ""] = spec
    return [
        LivePlan(plan_id, year, specs.get(plan_id, {}))
        for plan_id, year, meta in plans
        if meta.get("live_snapshots", True) and specs.get(plan_id)
    ]


async def store(connection: AsyncConnection, folded: dict[LiveKey, LiveRow]) -> set[str]:
    """Insert or replace the rows newer than the stored ones; returns the plans that changed."""
    if not folded:
        return set()
    live = t.indicator_live
    plan_ids = {key[0] for key in folded}
    days = {key[2] for key in folded}
    query = sa.select(live.c.plan_id, live.c.number, live.c.day, live.c.taken_at).where(
        live.c.plan_id.in_(plan_ids) & live.c.day.in_(days)
    )
    stored = {(row[0], row[1], row[2]): aware(row[3]) for row in (await connection.execute(query)).all()}
    changed: set[str] = set()
    for (plan_id, number, day), row in folded.items():
        previous = stored.get((plan_id, number, day))
        if not is_newer(row, previous):
            continue
        values = asdict(row)
        if previous is None:
            await connection.execute(sa.insert(live).values(plan_id=plan_id, number=number, day=day, **values))
        else:
            where = (live.c.plan_id == plan_id) & (live.c.number == number) & (live.c.day == day)
            await connection.execute(sa.update(live).where(where).values(**values))
        changed.add(plan_id)
    return changed


async def forget_processed(connection: AsyncConnection, before: datetime) -> int:
    """Drop processed-message records older than any possible redelivery (the fold is idempotent anyway)."""
    result = await connection.execute(sa.delete(t.processed).where(t.processed.c.processed_at < before))
    return int(result.rowcount or 0)

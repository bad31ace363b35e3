"""Live indicator values from `dvc.indicators.snapshot`, applied exactly once with the processed-message record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.contracts.alerts import IndicatorSnapshotTaken
from services.tasks.adapters import tables as t
from services.tasks.adapters.rows import aware
from services.tasks.domain.evaluation import from_ratio
from services.tasks.domain.plan import IndicatorSpec


@dataclass(frozen=True)
class SnapshotItem:
    message_id: str
    sequence: int | None
    snapshot: IndicatorSnapshotTaken


@dataclass(frozen=True)
class SnapshotOutcome:
    applied: int
    duplicates: int
    plans: frozenset[str]


@dataclass(frozen=True)
class _LiveRow:
    code: str
    value: float | None
    numerator: int
    denominator: int
    snapshot_id: str
    taken_at: datetime
    period_from: datetime
    period_to: datetime


@dataclass(frozen=True)
class _LivePlan:
    plan_id: str
    year: int
    indicators: dict[str, IndicatorSpec]  # live code -> spec


async def _live_plans(connection: AsyncConnection) -> list[_LivePlan]:
    plans = (await connection.execute(sa.select(t.plans.c.plan_id, t.plans.c.year, t.plans.c.meta))).all()
    query = sa.select(t.indicators.c.plan_id, t.indicators.c.spec).where(
        t.indicators.c.live_code.is_not(None) & t.indicators.c.active.is_(True)
    )
    specs: dict[str, dict[str, IndicatorSpec]] = {}
    for plan_id, raw in (await connection.execute(query)).all():
        spec = IndicatorSpec.model_validate(raw)
        specs.setdefault(plan_id, {})[spec.live_code or ""] = spec
    return [
        _LivePlan(plan_id, year, specs.get(plan_id, {}))
        for plan_id, year, meta in plans
        if meta.get("live_snapshots", True) and specs.get(plan_id)
    ]


async def apply_snapshots(
    connection: AsyncConnection, items: Sequence[SnapshotItem], timezone: str, now: datetime
) -> SnapshotOutcome:
    """Record each message id (skipping those seen) and fold the new snapshots into one row per plan, indicator
    and day (the latest `taken_at` wins, so any order converges)."""
    ids = [item.message_id for item in items]
    known = sa.select(t.processed.c.message_id).where(t.processed.c.message_id.in_(ids))
    seen = set((await connection.execute(known)).scalars())
    fresh: dict[str, SnapshotItem] = {}
    for item in items:
        if item.message_id not in seen and item.message_id not in fresh:
            fresh[item.message_id] = item
    if not fresh:
        return SnapshotOutcome(0, len(items), frozenset())
    await connection.execute(
        sa.insert(t.processed),
        [{"message_id": key, "stream_sequence": item.sequence, "processed_at": now} for key, item in fresh.items()],
    )
    zone = ZoneInfo(timezone)
    folded: dict[tuple[str, int, date], _LiveRow] = {}
    for plan in await _live_plans(connection):
        for item in fresh.values():
            snapshot = item.snapshot
            if snapshot.period_from.astimezone(zone).year != plan.year:
                continue
            day = snapshot.taken_at.astimezone(zone).date()
            for value in snapshot.indicators:
                spec = plan.indicators.get(value.code)
                if spec is None:
                    continue
                key = (plan.plan_id, spec.number, day)
                current = folded.get(key)
                if current is not None and current.taken_at >= snapshot.taken_at:
                    continue
                folded[key] = _LiveRow(
                    value.code,
                    from_ratio(spec.kind, value.value),
                    value.numerator,
                    value.denominator,
                    snapshot.snapshot_id,
                    snapshot.taken_at,
                    snapshot.period_from,
                    snapshot.period_to,
                )
    changed = await _store(connection, folded)
    return SnapshotOutcome(len(fresh), len(items) - len(fresh), frozenset(changed))


async def _store(connection: AsyncConnection, folded: dict[tuple[str, int, date], _LiveRow]) -> set[str]:
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
        values = asdict(row)
        previous = stored.get((plan_id, number, day))
        if previous is None:
            await connection.execute(sa.insert(live).values(plan_id=plan_id, number=number, day=day, **values))
        elif previous < row.taken_at:
            where = (live.c.plan_id == plan_id) & (live.c.number == number) & (live.c.day == day)
            await connection.execute(sa.update(live).where(where).values(**values))
        else:
            continue
        changed.add(plan_id)
    return changed


async def forget_processed(connection: AsyncConnection, before: datetime) -> int:
    """Drop processed-message records older than any possible redelivery (the fold is idempotent anyway)."""
    result = await connection.execute(sa.delete(t.processed).where(t.processed.c.processed_at < before))
    return int(result.rowcount or 0)


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)

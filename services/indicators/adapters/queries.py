"""Read side: indicator counts, leaderboard inputs, dossier lookup and metric aggregates (SQL aggregates)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.indicators.adapters.dossier_counts import dossier_counts
from services.indicators.adapters.indicator_counts import count_where, dossier_scope, within
from services.indicators.adapters.store import row_to_state
from services.indicators.adapters.tables import Tables
from services.indicators.domain.dossier import DossierState
from services.indicators.domain.indicators import Scope
from services.indicators.domain.leaderboard import Performance
from services.indicators.service_layer.read_model import FieldCount, MetricAggregates


async def performances(
    connection: AsyncConnection,
    tables: Tables,
    by: str,
    start: datetime,
    end: datetime,
    now: datetime,
    day_seconds: float,
    scope: Scope = Scope(),
) -> list[Performance]:
    """Per agency or officer: dossiers finished in [start, end), on time, working days each, open overdue now."""
    d = tables.dossiers.c
    key = d.agency if by == "agency" else d.officer
    scoped = dossier_scope(tables, scope)
    handled: dict[str, list[float]] = defaultdict(list)
    on_time: dict[str, int] = defaultdict(int)
    query = select(key, d.on_time, d.elapsed_working_seconds).where(
        within(d.ended_at, start, end), key.is_not(None), *scoped
    )
    for code, timely, seconds in await connection.execute(query):
        handled[code].append((seconds or 0.0) / day_seconds)
        on_time[code] += 1 if timely else 0
    overdue_query = (
        select(key, func.count())
        .where(d.accepted_at.is_not(None), d.ended_at.is_(None), d.overdue_from < now, key.is_not(None), *scoped)
        .group_by(key)
    )
    overdue = {code: int(count) for code, count in await connection.execute(overdue_query)}
    keys = sorted(set(handled) | set(overdue))
    return [Performance(code, len(handled[code]), on_time[code], handled[code], overdue.get(code, 0)) for code in keys]


async def fields(connection: AsyncConnection, tables: Tables, start: datetime, end: datetime) -> list[FieldCount]:
    """Every field (lĩnh vực) of the procedure catalogue: its procedures and the dossiers accepted in [start, end)."""
    d, p = tables.dossiers.c, tables.procedures.c
    procedures = select(p.field, func.count()).where(p.published_at < end).group_by(p.field)
    counts = {str(name): FieldCount(str(name), int(n), 0) for name, n in await connection.execute(procedures)}
    accepted = (
        select(p.field, func.count())
        .select_from(tables.dossiers.join(tables.procedures, p.procedure_code == d.procedure_code))
        .where(within(d.accepted_at, start, end))
        .group_by(p.field)
    )
    for name, n in await connection.execute(accepted):
        known = counts.get(str(name), FieldCount(str(name), 0, 0))
        counts[str(name)] = FieldCount(known.field, known.procedures, int(n))
    return sorted(counts.values(), key=lambda row: row.field)


async def dossier(connection: AsyncConnection, tables: Tables, code: str) -> DossierState | None:
    row = (await connection.execute(select(tables.dossiers).where(tables.dossiers.c.dossier_code == code))).first()
    return None if row is None else row_to_state(row._mapping)


async def open_dossiers(connection: AsyncConnection, tables: Tables) -> list[DossierState]:
    d = tables.dossiers.c
    query = select(tables.dossiers).where(d.accepted_at.is_not(None), d.ended_at.is_(None))
    return [row_to_state(row) for row in (await connection.execute(query)).mappings()]


async def anomalous_dossiers(connection: AsyncConnection, tables: Tables, limit: int) -> list[DossierState]:
    """Dossiers that received events after their terminal status, most anomalies first."""
    d = tables.dossiers.c
    query = select(tables.dossiers).where(d.anomalies > 0).order_by(d.anomalies.desc(), d.dossier_code).limit(limit)
    return [row_to_state(row) for row in (await connection.execute(query)).mappings()]


async def metric_aggregates(
    connection: AsyncConnection, tables: Tables, start: datetime, end: datetime, now: datetime, buckets: Sequence[float]
) -> MetricAggregates:
    d = tables.dossiers.c
    counts = await dossier_counts(connection, tables, start, end, now)
    seconds = d.elapsed_working_seconds
    histogram = select(
        func.count(), func.coalesce(func.sum(seconds), 0.0), *[count_where(seconds <= bound) for bound in buckets]
    )
    row = (await connection.execute(histogram.where(within(d.ended_at, start, end), seconds.is_not(None)))).one()
    anomaly_query = select(d.last_anomaly, func.count()).where(d.anomalies > 0).group_by(d.last_anomaly)
    anomalies = {str(kind): int(n) for kind, n in await connection.execute(anomaly_query)}
    state = tables.consumer_state.c
    position = (await connection.execute(select(func.sum(state.events_applied), func.max(state.last_event_time)))).one()
    return MetricAggregates(
        received=counts.received,
        finished=counts.finished,
        open=counts.open,
        overdue=counts.overdue,
        late_without_apology=counts.late_without_apology,
        processing_buckets=[(bound, int(count)) for bound, count in zip(buckets, row[2:], strict=True)],
        processing_count=int(row[0]),
        processing_sum=float(row[1]),
        events_applied=int(position[0] or 0),
        last_event_time=position[1],
        anomalies=anomalies,
    )

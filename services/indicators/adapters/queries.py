"""Read side: indicator counts, leaderboard inputs, dossier lookup and metric aggregates (SQL aggregates)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.indicators.adapters.store import row_to_state
from services.indicators.adapters.tables import Tables
from services.indicators.domain.dossier import DossierState
from services.indicators.domain.leaderboard import Performance

FULL_OR_PARTIAL = ("full", "partial")


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _within(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _ended_on_time_or_open(tables: Tables, at: datetime) -> ColumnElement[bool]:
    """Timely at instant `at`: ended on time, or open at `at` and not yet overdue then."""
    d = tables.dossiers.c
    still_open_now = and_(d.ended_at.is_(None), or_(d.overdue_from.is_(None), d.overdue_from >= at))
    ended_later_not_late = and_(d.ended_at >= at, d.extended_due_at >= at, or_(d.late_at.is_(None), d.late_at >= at))
    return or_(still_open_now, ended_later_not_late)


async def indicator_counts(
    connection: AsyncConnection, tables: Tables, start: datetime, end: datetime, agency: str | None, now: datetime
) -> dict[str, tuple[int, int]]:
    """`{code: (numerator, denominator)}` for the period [start, end) (DESIGN §5)."""
    d, p = tables.dossiers.c, tables.procedures.c
    by_agency: list[ColumnElement[bool]] = [] if agency is None else [d.agency == agency]
    counts: dict[str, tuple[int, int]] = {}

    online = d.channel == "online"
    level_ok = p.level.in_(FULL_OR_PARTIAL)
    accepted = select(
        func.count(), _count(online), _count(d.reused_data.is_(True)), _count(level_ok), _count(and_(level_ok, online))
    ).select_from(tables.dossiers.outerjoin(tables.procedures, p.procedure_code == d.procedure_code))
    row = (await connection.execute(accepted.where(_within(d.accepted_at, start, end), *by_agency))).one()
    counts["I20"], counts["I23"], counts["I21"] = (row[1], row[0]), (row[2], row[0]), (row[4], row[3])

    contactless = and_(d.channel.in_(("online", "postal")), d.delivery.in_(("electronic", "postal")))
    digitised = and_(d.digitized.is_(True), d.result_digitized.is_(True))
    returned = select(func.count(), _count(contactless), _count(digitised))
    row = (await connection.execute(returned.where(_within(d.returned_at, start, end), *by_agency))).one()
    counts["I17"], counts["I18"] = (row[1], row[0]), (row[2], row[0])

    processed = select(func.count(), _count(d.result_electronic.is_(True)))
    row = (await connection.execute(processed.where(_within(d.processed_at, start, end), *by_agency))).one()
    counts["I22"] = (row[1], row[0])

    paid = select(func.count(), _count(d.paid_online.is_(True)))
    row = (await connection.execute(paid.where(_within(d.paid_at, start, end), *by_agency))).one()
    counts["I24"] = (row[1], row[0])

    at = min(end, now)
    ended = select(func.count(), _count(d.on_time.is_(True)))
    row = (await connection.execute(ended.where(_within(d.ended_at, start, end), *by_agency))).one()
    open_at = and_(d.accepted_at < at, or_(d.ended_at.is_(None), d.ended_at >= at))
    still_open = select(func.count(), _count(_ended_on_time_or_open(tables, at)))
    open_row = (await connection.execute(still_open.where(open_at, *by_agency))).one()
    counts["ONTIME"] = (row[1] + open_row[1], row[0] + open_row[0])

    business, eligible = p.business_related.is_(True), p.eligible_full_online.is_(True)
    procedures = select(
        func.count(),
        _count(p.boundary_free.is_(True)),
        _count(business),
        _count(and_(business, level_ok)),
        _count(eligible),
        _count(and_(eligible, p.level == "full")),
    ).where(p.published_at < end)
    row = (await connection.execute(procedures)).one()
    counts["I15"], counts["I16"], counts["I19"] = (row[1], row[0]), (row[3], row[2]), (row[5], row[4])

    c = tables.documents.c
    documents = select(func.count(), _count(c.fully_electronic.is_(True))).where(_within(c.completed_at, start, end))
    if agency is not None:
        documents = documents.where(c.agency == agency)
    row = (await connection.execute(documents)).one()
    counts["I25"] = (row[1], row[0])
    return {code: (int(numerator), int(denominator)) for code, (numerator, denominator) in counts.items()}


async def performances(
    connection: AsyncConnection,
    tables: Tables,
    by: str,
    start: datetime,
    end: datetime,
    now: datetime,
    day_seconds: float,
) -> list[Performance]:
    """Per agency or officer: dossiers finished in [start, end), on time, working days each, open overdue now."""
    d = tables.dossiers.c
    key = d.agency if by == "agency" else d.officer
    handled: dict[str, list[float]] = defaultdict(list)
    on_time: dict[str, int] = defaultdict(int)
    query = select(key, d.on_time, d.elapsed_working_seconds).where(_within(d.ended_at, start, end), key.is_not(None))
    for code, timely, seconds in await connection.execute(query):
        handled[code].append((seconds or 0.0) / day_seconds)
        on_time[code] += 1 if timely else 0
    overdue_query = (
        select(key, func.count())
        .where(d.accepted_at.is_not(None), d.ended_at.is_(None), d.overdue_from < now, key.is_not(None))
        .group_by(key)
    )
    overdue = {code: int(count) for code, count in await connection.execute(overdue_query)}
    keys = sorted(set(handled) | set(overdue))
    return [Performance(code, len(handled[code]), on_time[code], handled[code], overdue.get(code, 0)) for code in keys]


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


@dataclass
class MetricAggregates:
    received: dict[tuple[str, str], int]  # (agency, channel)
    finished: dict[tuple[str, str], int]  # (agency, "on_time" | "late")
    open: dict[str, int]
    overdue: dict[str, int]
    processing_buckets: list[tuple[float, int]]  # (upper bound in seconds, cumulative count)
    processing_count: int
    processing_sum: float
    events_applied: int
    last_event_time: datetime | None
    anomalies: dict[str, int] = field(default_factory=dict)  # type of the latest anomaly -> dossiers


async def metric_aggregates(
    connection: AsyncConnection, tables: Tables, start: datetime, end: datetime, now: datetime, buckets: Sequence[float]
) -> MetricAggregates:
    d = tables.dossiers.c
    received_query = (
        select(d.agency, d.channel, func.count())
        .where(_within(d.accepted_at, start, end))
        .group_by(d.agency, d.channel)
    )
    received = {
        (agency, channel or "unknown"): int(n) for agency, channel, n in await connection.execute(received_query)
    }
    finished_query = (
        select(d.agency, d.on_time, func.count()).where(_within(d.ended_at, start, end)).group_by(d.agency, d.on_time)
    )
    finished: dict[tuple[str, str], int] = defaultdict(int)
    for agency, timely, n in await connection.execute(finished_query):
        finished[(agency, "on_time" if timely else "late")] += int(n)
    open_condition = and_(d.accepted_at.is_not(None), d.ended_at.is_(None))
    open_query = select(d.agency, func.count(), _count(d.overdue_from < now)).where(open_condition).group_by(d.agency)
    open_counts, overdue = {}, {}
    for agency, n, late in await connection.execute(open_query):
        open_counts[agency], overdue[agency] = int(n), int(late)
    seconds = d.elapsed_working_seconds
    histogram = select(
        func.count(), func.coalesce(func.sum(seconds), 0.0), *[_count(seconds <= bound) for bound in buckets]
    )
    row = (await connection.execute(histogram.where(_within(d.ended_at, start, end), seconds.is_not(None)))).one()
    anomaly_query = select(d.last_anomaly, func.count()).where(d.anomalies > 0).group_by(d.last_anomaly)
    anomalies = {str(kind): int(n) for kind, n in await connection.execute(anomaly_query)}
    state = tables.consumer_state.c
    position = (await connection.execute(select(func.sum(state.events_applied), func.max(state.last_event_time)))).one()
    return MetricAggregates(
        received=received,
        finished=dict(finished),
        open=open_counts,
        overdue=overdue,
        processing_buckets=[(bound, int(count)) for bound, count in zip(buckets, row[2:], strict=True)],
        processing_count=int(row[0]),
        processing_sum=float(row[1]),
        events_applied=int(position[0] or 0),
        last_event_time=position[1],
        anomalies=anomalies,
    )

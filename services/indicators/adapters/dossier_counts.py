"""Dossier counts of the metrics by agency and field (the procedure's lĩnh vực in the catalogue; None when the
procedure is not in it): accepted and ended in the period, open and overdue now."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.indicators.adapters.indicator_counts import count_where, ended_late, timely_at, within, without_apology
from services.indicators.adapters.tables import Tables


@dataclass(frozen=True)
class DossierCounts:
    received: dict[tuple[str, str | None, str], int]  # (agency, field, channel)
    finished: dict[tuple[str, str | None, str], int]  # (agency, field, "on_time" | "late"): both, 0 when none
    open: dict[tuple[str, str | None], int]  # (agency, field)
    overdue: dict[tuple[str, str | None], int]
    late_without_apology: dict[tuple[str, str | None], int]  # LATE_NO_APOLOGY's numerator, by agency and field


async def dossier_counts(
    connection: AsyncConnection, tables: Tables, start: datetime, end: datetime, now: datetime
) -> DossierCounts:
    d, p = tables.dossiers.c, tables.procedures.c
    with_field = tables.dossiers.outerjoin(tables.procedures, p.procedure_code == d.procedure_code)
    received_query = (
        select(d.agency, p.field, d.channel, func.count())
        .select_from(with_field)
        .where(within(d.accepted_at, start, end))
        .group_by(d.agency, p.field, d.channel)
    )
    received = {
        (agency, area, channel or "unknown"): int(n)
        for agency, area, channel, n in await connection.execute(received_query)
    }
    finished_query = (
        select(d.agency, p.field, d.on_time, func.count())
        .select_from(with_field)
        .where(within(d.ended_at, start, end))
        .group_by(d.agency, p.field, d.on_time)
    )
    finished: dict[tuple[str, str | None, str], int] = defaultdict(int)
    for agency, area, timely, n in await connection.execute(finished_query):
        finished[(agency, area, "on_time")] += int(n) if timely else 0
        finished[(agency, area, "late")] += 0 if timely else int(n)
    open_condition = and_(d.accepted_at.is_not(None), d.ended_at.is_(None))
    open_query = (
        select(d.agency, p.field, func.count(), count_where(d.overdue_from < now))
        .select_from(with_field)
        .where(open_condition)
        .group_by(d.agency, p.field)
    )
    open_counts, overdue = {}, {}
    for agency, area, n, late in await connection.execute(open_query):
        open_counts[(agency, area)], overdue[(agency, area)] = int(n), int(late)
    late = await _late_without_apology(connection, tables, start, end, min(end, now))
    return DossierCounts(received, dict(finished), open_counts, overdue, late)


async def _late_without_apology(
    connection: AsyncConnection, tables: Tables, start: datetime, end: datetime, at: datetime
) -> dict[tuple[str, str | None], int]:
    """As LATE_NO_APOLOGY counts them: ended late in the period, or open at `at` and overdue then; without an
    apology slip. Every (agency, field) with dossiers of the period gets a value, 0 when none."""
    d, p = tables.dossiers.c, tables.procedures.c
    with_field = tables.dossiers.outerjoin(tables.procedures, p.procedure_code == d.procedure_code)
    no_apology = without_apology(tables)
    ended = (
        select(d.agency, p.field, count_where(and_(ended_late(tables), no_apology)))
        .select_from(with_field)
        .where(within(d.ended_at, start, end))
        .group_by(d.agency, p.field)
    )
    counts: dict[tuple[str, str | None], int] = defaultdict(int)
    for agency, area, n in await connection.execute(ended):
        counts[(agency, area)] += int(n)
    open_at = and_(d.accepted_at < at, or_(d.ended_at.is_(None), d.ended_at >= at))
    # a difference, as the indicator computes it, so that a NULL comparison is "not timely" alike
    still_open = (
        select(d.agency, p.field, count_where(no_apology), count_where(and_(timely_at(tables, at), no_apology)))
        .select_from(with_field)
        .where(open_at)
        .group_by(d.agency, p.field)
    )
    for agency, area, untimely_or_not, timely in await connection.execute(still_open):
        counts[(agency, area)] += int(untimely_or_not) - int(timely)
    return dict(counts)


async def procedure_fields(connection: AsyncConnection, tables: Tables) -> dict[str, str]:
    """The field of every procedure of the catalogue (its latest publication)."""
    p = tables.procedures.c
    return {str(code): str(area) for code, area in await connection.execute(select(p.procedure_code, p.field))}

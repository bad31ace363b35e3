"""Numerators and denominators of the plan's indicators for a period and a scope (SQL aggregates).

The counting rules are those of `domain/indicators.py`; each function here counts one family of rows. The
procedure settings are those in force at the time (`procedure_versions.py`), never today's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.indicators.adapters.procedure_versions import in_force, level_at_acceptance
from services.indicators.adapters.tables import Tables
from services.indicators.domain.indicators import Scope

FULL_OR_PARTIAL = ("full", "partial")
Counts = dict[str, tuple[int, int]]


def count_where(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def within(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def scope_conditions(tables: Tables, scope: Scope, agency: Any, procedure_code: Any) -> list[ColumnElement[bool]]:
    """Conditions on a table's `agency` and `procedure_code` columns for a scope; the field is the procedure
    catalogue's (dossiers, alerts)."""
    p = tables.procedures.c
    conditions: list[ColumnElement[bool]] = []
    if scope.agency is not None:
        conditions.append(agency == scope.agency)
    if scope.procedure is not None:
        conditions.append(procedure_code == scope.procedure)
    if scope.field is not None:
        conditions.append(procedure_code.in_(select(p.procedure_code).where(p.field == scope.field)))
    return conditions


def dossier_scope(tables: Tables, scope: Scope) -> list[ColumnElement[bool]]:
    d = tables.dossiers.c
    return scope_conditions(tables, scope, d.agency, d.procedure_code)


def timely_at(tables: Tables, at: datetime) -> ColumnElement[bool]:
    """Timely at instant `at`: ended on time, or open at `at` and not yet overdue then."""
    d = tables.dossiers.c
    still_open_now = and_(d.ended_at.is_(None), or_(d.overdue_from.is_(None), d.overdue_from >= at))
    ended_later_not_late = and_(d.ended_at >= at, d.extended_due_at >= at, or_(d.late_at.is_(None), d.late_at >= at))
    return or_(still_open_now, ended_later_not_late)


def without_apology(tables: Tables) -> ColumnElement[bool]:
    """No apology slip (`rescheduled`) at or before the extended due time (LATE_NO_APOLOGY)."""
    d = tables.dossiers.c
    return or_(d.rescheduled_at.is_(None), d.rescheduled_at > d.extended_due_at)


def ended_late(tables: Tables) -> ColumnElement[bool]:
    d = tables.dossiers.c
    return or_(d.on_time.is_(False), d.on_time.is_(None))


async def indicator_counts(
    connection: AsyncConnection, tables: Tables, start: datetime, end: datetime, scope: Scope, now: datetime
) -> Counts:
    """`{code: (numerator, denominator)}` for the period [start, end) (design §5)."""
    counts: Counts = {}
    at = min(end, now)
    for family in (_accepted, _returned, _processed_and_paid, _procedures, _documents, _feedback):
        counts |= await family(connection, tables, start, end, scope)
    counts |= await _timeliness(connection, tables, start, end, scope, at)
    return {code: (int(numerator), int(denominator)) for code, (numerator, denominator) in counts.items()}


async def _accepted(
    connection: AsyncConnection, tables: Tables, start: datetime, end: datetime, scope: Scope
) -> Counts:
    d = tables.dossiers.c
    online = d.channel == "online"
    level_ok = level_at_acceptance(tables).in_(FULL_OR_PARTIAL)
    query = select(
        func.count(),
        count_where(online),
        count_where(d.reused_data.is_(True)),
        count_where(level_ok),
        count_where(and_(level_ok, online)),
    )
    row = (
        await connection.execute(query.where(within(d.accepted_at, start, end), *dossier_scope(tables, scope)))
    ).one()
    return {"I20": (row[1], row[0]), "I23": (row[2], row[0]), "I21": (row[4], row[3])}


async def _returned(
    connection: AsyncConnection, tables: Tables, start: datetime, end: datetime, scope: Scope
) -> Counts:
    d = tables.dossiers.c
    contactless = and_(d.channel.in_(("online", "postal")), d.delivery.in_(("electronic", "postal")))
    digitised = and_(d.digitized.is_(True), d.result_digitized.is_(True))
    query = select(func.count(), count_where(contactless), count_where(digitised))
    row = (
        await connection.execute(query.where(within(d.returned_at, start, end), *dossier_scope(tables, scope)))
    ).one()
    return {"I17": (row[1], row[0]), "I18": (row[2], row[0])}


async def _processed_and_paid(
    connection: AsyncConnection, tables: Tables, start: datetime, end: datetime, scope: Scope
) -> Counts:
    d = tables.dossiers.c
    scoped = dossier_scope(tables, scope)
    processed = select(func.count(), count_where(d.result_electronic.is_(True)))
    row = (await connection.execute(processed.where(within(d.processed_at, start, end), *scoped))).one()
    paid = select(func.count(), count_where(d.paid_online.is_(True)))
    paid_row = (await connection.execute(paid.where(within(d.paid_at, start, end), *scoped))).one()
    return {"I22": (row[1], row[0]), "I24": (paid_row[1], paid_row[0])}


async def _procedures(
    connection: AsyncConnection, tables: Tables, _start: datetime, end: datetime, scope: Scope
) -> Counts:
    """The catalogue as it stood at the period's end: each procedure's version in force then."""
    v = tables.procedure_versions.c
    business, eligible = v.business_related.is_(True), v.eligible_full_online.is_(True)
    query = in_force(
        tables,
        end,
        func.count(),
        count_where(v.boundary_free.is_(True)),
        count_where(business),
        count_where(and_(business, v.level.in_(FULL_OR_PARTIAL))),
        count_where(eligible),
        count_where(and_(eligible, v.level == "full")),
    )
    if scope.procedure is not None:
        query = query.where(v.procedure_code == scope.procedure)
    if scope.field is not None:
        query = query.where(v.field == scope.field)
    row = (await connection.execute(query)).one()
    return {"I15": (row[1], row[0]), "I16": (row[3], row[2]), "I19": (row[5], row[4])}


async def _documents(
    connection: AsyncConnection, tables: Tables, start: datetime, end: datetime, scope: Scope
) -> Counts:
    c = tables.documents.c
    query = select(func.count(), count_where(c.fully_electronic.is_(True))).where(within(c.completed_at, start, end))
    if scope.agency is not None:
        query = query.where(c.agency == scope.agency)
    row = (await connection.execute(query)).one()
    return {"I25": (row[1], row[0])}


async def _feedback(
    connection: AsyncConnection, tables: Tables, start: datetime, end: datetime, scope: Scope
) -> Counts:
    f, d = tables.feedback.c, tables.dossiers.c
    query = select(func.count(), count_where(f.satisfied.is_(True))).where(within(f.submitted_at, start, end))
    scoped = dossier_scope(tables, scope)
    if scoped:  # feedback of dossiers the scope keeps (a dossier never seen belongs to no agency or field)
        query = query.where(f.dossier_code.in_(select(d.dossier_code).where(*scoped)))
    row = (await connection.execute(query)).one()
    return {"SAT": (row[1], row[0])}


async def _timeliness(
    connection: AsyncConnection, tables: Tables, start: datetime, end: datetime, scope: Scope, at: datetime
) -> Counts:
    """ONTIME, and LATE_NO_APOLOGY among the same dossiers: ended in the period, or open at its end `at`."""
    d = tables.dossiers.c
    scoped = dossier_scope(tables, scope)
    no_apology = without_apology(tables)
    ended = select(func.count(), count_where(d.on_time.is_(True)), count_where(and_(ended_late(tables), no_apology)))
    row = (await connection.execute(ended.where(within(d.ended_at, start, end), *scoped))).one()
    open_at = and_(d.accepted_at < at, or_(d.ended_at.is_(None), d.ended_at >= at))
    timely = timely_at(tables, at)
    # Counted as differences, so that a NULL comparison is "not timely" in both figures alike.
    still_open = select(
        func.count(), count_where(timely), count_where(no_apology), count_where(and_(timely, no_apology))
    )
    open_row = (await connection.execute(still_open.where(open_at, *scoped))).one()
    late = row[0] - row[1] + open_row[0] - open_row[1]
    late_no_apology = row[2] + open_row[2] - open_row[3]
    return {"ONTIME": (row[1] + open_row[1], row[0] + open_row[0]), "LATE_NO_APOLOGY": (late_no_apology, late)}

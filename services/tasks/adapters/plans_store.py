"""Plans and indicators in the database: idempotent load (upsert by plan id, indicator number and task id),
readings (the latest report or live value of each indicator) and their history."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tasks.adapters import tables as t
from services.tasks.adapters.rows import indicator_view, live_reading, plan_view, report_reading
from services.tasks.domain.plan import TaskSpec
from services.tasks.domain.views import IndicatorView, PlanView, Reading
from services.tasks.service_layer.messages import LoadedPlan, LoadSummary, NewIndicatorReport


def _task_definition(task: TaskSpec, position: int) -> dict[str, Any]:
    details = task.model_dump(
        mode="json",
        include={"content", "time_frame", "recurring", "legal_basis", "rationale", "scale_and_products", "funding"},
    )
    return {
        "position": position,
        "parent_id": task.parent,
        "section": task.section,
        "title": task.title,
        "owner": task.owner,
        "collaborators": list(task.collaborators),
        "deadline": task.deadline,
        "details": details,
        "origin": "plan",
        "active": True,
    }


async def upsert_plan(connection: AsyncConnection, loaded: LoadedPlan, now: datetime) -> LoadSummary:
    plan = loaded.plan
    plan_id = plan.plan.id
    summary = LoadSummary(plan_id)
    plan_values = {
        "year": plan.plan.year,
        "meta": plan.plan.model_dump(mode="json"),
        "units": [unit.model_dump(mode="json", exclude_none=True) for unit in plan.units],
        "groups": [group.model_dump(mode="json") for group in plan.groups],
        "source": loaded.source,
        "sha256": loaded.sha256,
    }
    existing = (await connection.execute(sa.select(t.plans).where(t.plans.c.plan_id == plan_id))).mappings().first()
    if existing is None:
        await connection.execute(sa.insert(t.plans).values(plan_id=plan_id, loaded_at=now, **plan_values))
        summary.created = summary.plan_changed = True
    elif any(existing[key] != value for key, value in plan_values.items() if key not in ("source", "sha256")):
        await connection.execute(
            sa.update(t.plans).where(t.plans.c.plan_id == plan_id).values(loaded_at=now, **plan_values)
        )
        summary.plan_changed = True
    elif existing["sha256"] != loaded.sha256 or existing["source"] != loaded.source:
        await connection.execute(
            sa.update(t.plans).where(t.plans.c.plan_id == plan_id).values(source=loaded.source, sha256=loaded.sha256)
        )
    await _upsert_indicators(connection, loaded, summary)
    await _upsert_tasks(connection, loaded, summary, now)
    return summary


async def _upsert_indicators(connection: AsyncConnection, loaded: LoadedPlan, summary: LoadSummary) -> None:
    plan_id = summary.plan_id
    rows = (await connection.execute(sa.select(t.indicators).where(t.indicators.c.plan_id == plan_id))).mappings()
    existing = {row["number"]: row for row in rows}
    for position, spec in enumerate(loaded.plan.indicators):
        values = {
            "position": position,
            "live_code": spec.live_code,
            "owners": list(spec.owners),
            "spec": spec.model_dump(mode="json"),
            "active": True,
        }
        row = existing.pop(spec.number, None)
        if row is None:
            await connection.execute(sa.insert(t.indicators).values(plan_id=plan_id, number=spec.number, **values))
            summary.indicators["inserted"] += 1
        elif any(row[key] != value for key, value in values.items()):
            where = (t.indicators.c.plan_id == plan_id) & (t.indicators.c.number == spec.number)
            await connection.execute(sa.update(t.indicators).where(where).values(**values))
            summary.indicators["updated"] += 1
    for number, row in existing.items():
        if row["active"]:
            where = (t.indicators.c.plan_id == plan_id) & (t.indicators.c.number == number)
            await connection.execute(sa.update(t.indicators).where(where).values(active=False))
            summary.indicators["retired"] += 1


async def _upsert_tasks(connection: AsyncConnection, loaded: LoadedPlan, summary: LoadSummary, now: datetime) -> None:
    """Definitions come from the file; progress, reports and tasks added through the API are kept."""
    plan_id = summary.plan_id
    rows = (await connection.execute(sa.select(t.tasks).where(t.tasks.c.plan_id == plan_id))).mappings()
    existing = {row["task_id"]: row for row in rows}
    for position, task in enumerate(loaded.plan.tasks):
        values = _task_definition(task, position)
        row = existing.pop(task.id, None)
        if row is None:
            await connection.execute(
                sa.insert(t.tasks).values(
                    plan_id=plan_id, task_id=task.id, progress_percent=0, started=False, updated_at=now, **values
                )
            )
            summary.tasks["inserted"] += 1
        elif any(row[key] != value for key, value in values.items()):
            where = (t.tasks.c.plan_id == plan_id) & (t.tasks.c.task_id == task.id)
            await connection.execute(sa.update(t.tasks).where(where).values(updated_at=now, **values))
            summary.tasks["updated"] += 1
    for task_id, row in existing.items():
        if row["origin"] == "plan" and row["active"]:
            where = (t.tasks.c.plan_id == plan_id) & (t.tasks.c.task_id == task_id)
            await connection.execute(sa.update(t.tasks).where(where).values(active=False, updated_at=now))
            summary.tasks["retired"] += 1


async def plans(connection: AsyncConnection) -> list[PlanView]:
    rows = (await connection.execute(sa.select(t.plans).order_by(t.plans.c.year, t.plans.c.plan_id))).mappings()
    return [plan_view(row) for row in rows]


async def plan(connection: AsyncConnection, plan_id: str) -> PlanView | None:
    row = (await connection.execute(sa.select(t.plans).where(t.plans.c.plan_id == plan_id))).mappings().first()
    return None if row is None else plan_view(row)


async def _latest_reports(connection: AsyncConnection, plan_id: str, before: datetime | None) -> dict[int, Reading]:
    r = t.indicator_reports
    newest = sa.select(sa.func.max(r.c.id)).where(r.c.plan_id == plan_id)
    if before is not None:
        newest = newest.where(r.c.recorded_at < before)
    newest = newest.group_by(r.c.number)
    rows = (await connection.execute(sa.select(r).where(r.c.id.in_(newest)))).mappings()
    return {row["number"]: report_reading(row) for row in rows}


async def _latest_live(connection: AsyncConnection, plan_id: str, before: date | None) -> dict[int, Reading]:
    live = t.indicator_live
    days = live.c.plan_id == plan_id if before is None else (live.c.plan_id == plan_id) & (live.c.day < before)
    newest = (
        sa.select(live.c.number, sa.func.max(live.c.day).label("day")).where(days).group_by(live.c.number).subquery()
    )
    query = sa.select(live).join(
        newest, (live.c.number == newest.c.number) & (live.c.day == newest.c.day) & (live.c.plan_id == plan_id)
    )
    return {row["number"]: live_reading(row) for row in (await connection.execute(query)).mappings()}


async def indicator_views(
    connection: AsyncConnection,
    plan_view_: PlanView,
    number: int | None = None,
    include_retired: bool = False,
    known_before: tuple[datetime, date] | None = None,
) -> list[IndicatorView]:
    """Each indicator with its latest reading; with `known_before` (instant, day), the latest reported before
    that instant and the latest live value of a day before that day (a report for a closed period)."""
    plan_id = plan_view_.plan_id
    query = sa.select(t.indicators).where(t.indicators.c.plan_id == plan_id).order_by(t.indicators.c.position)
    if number is not None:
        query = query.where(t.indicators.c.number == number)
    if not include_retired:
        query = query.where(t.indicators.c.active.is_(True))
    rows = list((await connection.execute(query)).mappings())
    reports = await _latest_reports(connection, plan_id, None if known_before is None else known_before[0])
    live = await _latest_live(connection, plan_id, None if known_before is None else known_before[1])
    return [
        indicator_view(plan_view_, row, live.get(row["number"]) if row["live_code"] else reports.get(row["number"]))
        for row in rows
    ]


async def indicator_history(connection: AsyncConnection, plan_id: str, number: int, live: bool) -> list[Reading]:
    """Every report in order, or the live value of each day."""
    if live:
        table = t.indicator_live
        query = sa.select(table).where((table.c.plan_id == plan_id) & (table.c.number == number)).order_by(table.c.day)
        return [live_reading(row) for row in (await connection.execute(query)).mappings()]
    r = t.indicator_reports
    query = sa.select(r).where((r.c.plan_id == plan_id) & (r.c.number == number)).order_by(r.c.id)
    return [report_reading(row) for row in (await connection.execute(query)).mappings()]


async def insert_indicator_report(connection: AsyncConnection, report: NewIndicatorReport) -> None:
    await connection.execute(sa.insert(t.indicator_reports).values(**asdict(report)))

"""Tasks and their append-only progress reports."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tasks.adapters import tables as t
from services.tasks.adapters.rows import task_report_view, task_view, task_view_as_reported
from services.tasks.domain.alerts import OpenTask
from services.tasks.domain.views import TaskReportView, TaskView
from services.tasks.service_layer.messages import NewTask, NewTaskReport, TaskChange


def _key(plan_id: str, task_id: str) -> sa.ColumnElement[bool]:
    return (t.tasks.c.plan_id == plan_id) & (t.tasks.c.task_id == task_id)


async def _last_reports(
    connection: AsyncConnection, plan_id: str, task_id: str | None = None, before: datetime | None = None
) -> dict[str, TaskReportView]:
    r = t.task_reports
    newest = sa.select(sa.func.max(r.c.id)).where(r.c.plan_id == plan_id)
    if task_id is not None:
        newest = newest.where(r.c.task_id == task_id)
    if before is not None:
        newest = newest.where(r.c.recorded_at < before)
    rows = (await connection.execute(sa.select(r).where(r.c.id.in_(newest.group_by(r.c.task_id))))).mappings()
    return {row["task_id"]: task_report_view(row) for row in rows}


async def task_views(
    connection: AsyncConnection,
    plan_id: str,
    today: date,
    *,
    owner: str | None = None,
    include_retired: bool = False,
    reported_before: datetime | None = None,
) -> list[TaskView]:
    """Tasks as they stand `today`; with `reported_before`, as their progress reports stood at that instant (a
    report for a closed period: progress from the last report before it, none reported yet means not started)."""
    query = sa.select(t.tasks).where(t.tasks.c.plan_id == plan_id).order_by(t.tasks.c.position, t.tasks.c.task_id)
    if owner is not None:
        query = query.where(t.tasks.c.owner == owner)
    if not include_retired:
        query = query.where(t.tasks.c.active.is_(True))
    rows = list((await connection.execute(query)).mappings())
    last = await _last_reports(connection, plan_id, before=reported_before)
    if reported_before is None:
        return [task_view(row, today, last.get(row["task_id"])) for row in rows]
    return [task_view_as_reported(row, today, last.get(row["task_id"])) for row in rows]


async def task(connection: AsyncConnection, plan_id: str, task_id: str, today: date) -> TaskView | None:
    row = (await connection.execute(sa.select(t.tasks).where(_key(plan_id, task_id)))).mappings().first()
    if row is None:
        return None
    last = await _last_reports(connection, plan_id, task_id)
    return task_view(row, today, last.get(task_id))


async def task_reports(connection: AsyncConnection, plan_id: str, task_id: str) -> list[TaskReportView]:
    r = t.task_reports
    query = sa.select(r).where((r.c.plan_id == plan_id) & (r.c.task_id == task_id)).order_by(r.c.id)
    return [task_report_view(row) for row in (await connection.execute(query)).mappings()]


def _changed_columns(change: TaskChange) -> dict[str, object]:
    values: dict[str, object] = {
        "progress_percent": change.progress_percent,
        "started": change.started,
        "updated_at": change.updated_at,
    }
    for column in ("title", "owner", "deadline"):
        if getattr(change, column) is not None:
            values[column] = getattr(change, column)
    if change.collaborators is not None:
        values["collaborators"] = list(change.collaborators)
    return values


async def update_task(connection: AsyncConnection, plan_id: str, task_id: str, change: TaskChange) -> None:
    await connection.execute(sa.update(t.tasks).where(_key(plan_id, task_id)).values(**_changed_columns(change)))


async def insert_task(connection: AsyncConnection, task: NewTask) -> None:
    """A new task starts active and not started."""
    await connection.execute(
        sa.insert(t.tasks).values(
            plan_id=task.plan_id,
            task_id=task.task_id,
            position=task.position,
            parent_id=task.parent_id,
            section=task.section,
            title=task.title,
            owner=task.owner,
            collaborators=list(task.collaborators),
            deadline=task.deadline,
            details={"content": task.content, "time_frame": task.time_frame},
            origin=task.origin,
            active=True,
            progress_percent=0,
            started=False,
            updated_at=task.updated_at,
        )
    )


async def next_position(connection: AsyncConnection, plan_id: str) -> int:
    current = await connection.scalar(sa.select(sa.func.max(t.tasks.c.position)).where(t.tasks.c.plan_id == plan_id))
    return 0 if current is None else int(current) + 1


async def insert_task_report(connection: AsyncConnection, report: NewTaskReport) -> None:
    await connection.execute(sa.insert(t.task_reports).values(**asdict(report)))


async def open_tasks(connection: AsyncConnection) -> list[OpenTask]:
    """Active tasks of every plan that are not done (the deadline scheduler's input)."""
    c = t.tasks.c
    query = sa.select(c.plan_id, c.task_id, c.title, c.owner, c.deadline, c.progress_percent).where(
        c.active.is_(True) & (c.progress_percent < 100)
    )
    rows = (await connection.execute(query)).all()
    return [OpenTask(row[0], row[1], row[2], row[3], row[4], row[5]) for row in rows]

"""Which deadline alerts are due: `due_soon` within N days of the deadline, `overdue` the day after it.

An alert's identity is (kind, plan, task, deadline): raised once, and again only if the deadline moves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.contracts.alerts import TaskAlertKind, TaskAlertRaised


@dataclass(frozen=True)
class OpenTask:
    plan_id: str
    task_id: str
    title: str
    owner_unit: str
    deadline: date
    progress_percent: int


def qualified_task_id(plan_id: str, task_id: str) -> str:
    """Task ids are unique within a plan; alerts name the plan too."""
    return f"{plan_id}:{task_id}"


def alert_id(kind: TaskAlertKind, plan_id: str, task_id: str, deadline: date) -> str:
    return f"task-{kind.value}:{plan_id}:{task_id}:{deadline.isoformat()}"


def due_alerts(
    tasks: Iterable[OpenTask], today: date, due_soon_days: int, raised_at: datetime
) -> list[TaskAlertRaised]:
    """Alerts the open (not done) `tasks` call for today; the caller keeps those not raised before."""
    alerts = []
    for task in tasks:
        if task.progress_percent >= 100:
            continue
        if today > task.deadline:
            kind = TaskAlertKind.OVERDUE
        elif today >= task.deadline - timedelta(days=due_soon_days):
            kind = TaskAlertKind.DUE_SOON
        else:
            continue
        alerts.append(
            TaskAlertRaised(
                alert_id=alert_id(kind, task.plan_id, task.task_id, task.deadline),
                kind=kind,
                task_id=qualified_task_id(task.plan_id, task.task_id),
                title=task.title,
                owner_unit=task.owner_unit,
                deadline=task.deadline,
                progress_percent=task.progress_percent,
                raised_at=raised_at,
            )
        )
    return alerts

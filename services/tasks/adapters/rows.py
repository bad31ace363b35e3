"""Row <-> view conversions shared by the stores (SQLite hands back naive timestamps: they are UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import RowMapping

from services.tasks.domain.evaluation import evaluate
from services.tasks.domain.plan import Group, IndicatorSpec, PlanMeta, Unit
from services.tasks.domain.tasks import task_status
from services.tasks.domain.views import IndicatorView, PlanView, Reading, TaskReportView, TaskView


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def plan_view(row: RowMapping) -> PlanView:
    return PlanView(
        meta=PlanMeta.model_validate(row["meta"]),
        units=[Unit.model_validate(unit) for unit in row["units"]],
        groups=[Group.model_validate(group) for group in row["groups"]],
        source=row["source"],
        sha256=row["sha256"],
        loaded_at=aware(row["loaded_at"]),
    )


def report_reading(row: RowMapping) -> Reading:
    return Reading(
        value=row["value"],
        period=row["period"],
        recorded_at=aware(row["recorded_at"]),
        source="report",
        evidence=row["evidence"],
        evidence_url=row["evidence_url"],
        reporter=row["reporter"],
        recorded_by=row["recorded_by"],
        note=row["note"],
    )


def live_reading(row: RowMapping) -> Reading:
    return Reading(
        value=row["value"],
        period=row["day"].isoformat(),
        recorded_at=aware(row["taken_at"]),
        source="live",
        numerator=row["numerator"],
        denominator=row["denominator"],
        snapshot_id=row["snapshot_id"],
    )


def indicator_view(plan: PlanView, row: RowMapping, latest: Reading | None) -> IndicatorView:
    spec = IndicatorSpec.model_validate(row["spec"])
    meta = plan.meta
    return IndicatorView(
        plan_id=meta.id,
        year=meta.year,
        horizon_year=meta.horizon_year,
        spec=spec,
        latest=latest,
        status=evaluate(spec.targets.get(meta.year), latest.value if latest else None),
        active=bool(row["active"]),
    )


def task_report_view(row: RowMapping) -> TaskReportView:
    return TaskReportView(
        id=row["id"],
        progress_percent=row["progress_percent"],
        summary=row["summary"],
        period=row["period"],
        evidence=row["evidence"],
        evidence_url=row["evidence_url"],
        reporter=row["reporter"],
        recorded_by=row["recorded_by"],
        recorded_at=aware(row["recorded_at"]),
    )


def task_view(row: RowMapping, today: date, last_report: TaskReportView | None = None) -> TaskView:
    deadline: date = row["deadline"]
    return TaskView(
        plan_id=row["plan_id"],
        task_id=row["task_id"],
        parent=row["parent_id"],
        section=row["section"],
        title=row["title"],
        owner=row["owner"],
        collaborators=list(row["collaborators"]),
        deadline=deadline,
        progress_percent=row["progress_percent"],
        started=bool(row["started"]),
        status=task_status(row["progress_percent"], bool(row["started"]), deadline, today),
        origin=row["origin"],
        active=bool(row["active"]),
        updated_at=aware(row["updated_at"]),
        details=dict(row["details"]),
        last_report=last_report,
    )


def task_view_as_reported(row: RowMapping, today: date, last_report: TaskReportView | None) -> TaskView:
    """The task as its last progress report (before a period's end) left it."""
    progress = last_report.progress_percent if last_report is not None else 0
    as_reported = {**row, "progress_percent": progress, "started": last_report is not None}
    return task_view(as_reported, today, last_report)  # type: ignore[arg-type]


def jsonable(value: Any) -> Any:
    """Dates and datetimes as ISO strings, for JSON columns."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value

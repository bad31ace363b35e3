"""Response bodies of the HTTP API (codes with their Vietnamese labels beside them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from services.tasks.domain.labels import COMPARATOR, INDICATOR_STATUS, TASK_STATUS
from services.tasks.domain.plan import Target
from services.tasks.domain.views import IndicatorView, PlanView, Reading, TaskReportView, TaskView
from services.tasks.service_layer.messages import AuditEntry


class UnitOut(BaseModel):
    code: str
    name: str


class TargetOut(BaseModel):
    year: int
    comparator: str
    comparator_label: str
    value: float | None
    text: str


class ReadingOut(BaseModel):
    value: float | None
    period: str | None
    source: str
    recorded_at: datetime
    evidence: str | None = None
    evidence_url: str | None = None
    reporter: str | None = None
    recorded_by: str | None = None
    numerator: int | None = None
    denominator: int | None = None
    snapshot_id: str | None = None


class IndicatorOut(BaseModel):
    plan_id: str
    number: int
    group: str | None
    group_name: str
    name: str
    unit: str
    kind: str
    owners: list[UnitOut]
    target: TargetOut | None
    target_horizon: TargetOut | None
    live_code: str | None
    source: str
    value: float | None
    latest: ReadingOut | None
    status: str
    status_label: str


class IndicatorDetailOut(IndicatorOut):
    history: list[ReadingOut]


class PlanOut(BaseModel):
    id: str
    title: str
    document: str
    commune: str
    province: str
    year: int
    horizon_year: int | None
    coordinator: str | None
    live_snapshots: bool
    units: list[UnitOut]
    source: str
    sha256: str
    loaded_at: datetime


class TaskReportOut(BaseModel):
    id: int
    progress_percent: int
    summary: str
    period: str | None
    evidence: str | None
    evidence_url: str | None
    reporter: str
    recorded_by: str
    recorded_at: datetime


class TaskOut(BaseModel):
    plan_id: str
    id: str
    parent: str | None
    section: str
    title: str
    content: str
    owner: UnitOut
    collaborators: list[UnitOut]
    deadline: date
    status: str
    status_label: str
    progress_percent: int
    origin: str
    active: bool
    updated_at: datetime
    last_report: TaskReportOut | None


class TaskDetailOut(TaskOut):
    details: dict[str, Any]
    reports: list[TaskReportOut]


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_unit: str | None
    action: str
    plan_id: str | None
    entity: str
    entity_id: str
    before: Any
    after: Any


def _unit(plan: PlanView, code: str) -> UnitOut:
    return UnitOut(code=code, name=plan.unit_name(code))


def _target(target: Target | None, year: int | None) -> TargetOut | None:
    if target is None or year is None:
        return None
    return TargetOut(
        year=year,
        comparator=target.comparator.value,
        comparator_label=COMPARATOR[target.comparator],
        value=target.value,
        text=target.text,
    )


def reading_out(reading: Reading) -> ReadingOut:
    return ReadingOut.model_validate(reading, from_attributes=True)


def indicator_out(plan: PlanView, view: IndicatorView) -> IndicatorOut:
    spec = view.spec
    return IndicatorOut(
        plan_id=view.plan_id,
        number=spec.number,
        group=spec.group,
        group_name=plan.group_name(spec.group),
        name=spec.name,
        unit=spec.unit,
        kind=spec.kind.value,
        owners=[_unit(plan, code) for code in spec.owners],
        target=_target(view.target, view.year),
        target_horizon=_target(view.horizon_target, view.horizon_year),
        live_code=spec.live_code,
        source="live" if spec.live_code else "report",
        value=view.latest.value if view.latest else None,
        latest=reading_out(view.latest) if view.latest else None,
        status=view.status.value,
        status_label=INDICATOR_STATUS[view.status],
    )


def plan_out(plan: PlanView) -> PlanOut:
    meta = plan.meta
    return PlanOut(
        id=meta.id,
        title=meta.title,
        document=meta.document,
        commune=meta.commune,
        province=meta.province,
        year=meta.year,
        horizon_year=meta.horizon_year,
        coordinator=meta.coordinator,
        live_snapshots=meta.live_snapshots,
        units=[UnitOut(code=unit.code, name=unit.name) for unit in plan.units],
        source=plan.source,
        sha256=plan.sha256,
        loaded_at=plan.loaded_at,
    )


def task_report_out(report: TaskReportView) -> TaskReportOut:
    return TaskReportOut.model_validate(report, from_attributes=True)


def task_out(plan: PlanView, view: TaskView) -> TaskOut:
    return TaskOut(
        plan_id=view.plan_id,
        id=view.task_id,
        parent=view.parent,
        section=view.section,
        title=view.title,
        content=view.content,
        owner=_unit(plan, view.owner),
        collaborators=[_unit(plan, code) for code in view.collaborators],
        deadline=view.deadline,
        status=view.status.value,
        status_label=TASK_STATUS[view.status],
        progress_percent=view.progress_percent,
        origin=view.origin,
        active=view.active,
        updated_at=view.updated_at,
        last_report=task_report_out(view.last_report) if view.last_report else None,
    )


def audit_out(entry: AuditEntry) -> AuditOut:
    return AuditOut.model_validate(entry, from_attributes=True)

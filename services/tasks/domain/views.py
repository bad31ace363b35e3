"""What the service shows: plans, indicators with their latest reading and status, tasks with their progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.tasks.domain.evaluation import IndicatorStatus
from services.tasks.domain.plan import Group, IndicatorSpec, PlanMeta, Target, Unit
from services.tasks.domain.tasks import TaskStatus


@dataclass(frozen=True)
class PlanView:
    meta: PlanMeta
    units: list[Unit]
    groups: list[Group]
    source: str
    sha256: str
    loaded_at: datetime

    @property
    def plan_id(self) -> str:
        return self.meta.id

    def unit_label(self, code: str) -> str:
        unit = next((unit for unit in self.units if unit.code == code), None)
        return unit.label if unit else code

    def unit_name(self, code: str) -> str:
        unit = next((unit for unit in self.units if unit.code == code), None)
        return unit.name if unit else code

    def group_name(self, code: str | None) -> str:
        group = next((group for group in self.groups if group.code == code), None)
        return group.name if group else ""


@dataclass(frozen=True)
class Reading:
    """One value of an indicator: reported by a unit, or one day's latest live snapshot."""

    value: float | None
    period: str | None
    recorded_at: datetime
    source: str  # "report" or "live"
    evidence: str | None = None
    evidence_url: str | None = None
    reporter: str | None = None
    recorded_by: str | None = None
    note: str = ""
    numerator: int | None = None
    denominator: int | None = None
    snapshot_id: str | None = None


@dataclass(frozen=True)
class IndicatorView:
    plan_id: str
    year: int
    horizon_year: int | None
    spec: IndicatorSpec
    latest: Reading | None
    status: IndicatorStatus
    active: bool = True

    @property
    def target(self) -> Target | None:
        return self.spec.targets.get(self.year)

    @property
    def horizon_target(self) -> Target | None:
        return self.spec.targets.get(self.horizon_year) if self.horizon_year else None


@dataclass(frozen=True)
class TaskReportView:
    id: int
    progress_percent: int
    summary: str
    period: str | None
    evidence: str | None
    evidence_url: str | None
    reporter: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class TaskView:
    plan_id: str
    task_id: str
    parent: str | None
    section: str
    title: str
    owner: str
    collaborators: list[str]
    deadline: date
    progress_percent: int
    started: bool
    status: TaskStatus
    origin: str
    active: bool
    updated_at: datetime
    details: dict[str, Any] = field(default_factory=dict)
    last_report: TaskReportView | None = None

    @property
    def content(self) -> str:
        return str(self.details.get("content", ""))

    def state(self) -> dict[str, Any]:
        """The changeable part, as the audit trail records it."""
        return {
            "title": self.title,
            "owner": self.owner,
            "collaborators": list(self.collaborators),
            "deadline": self.deadline.isoformat(),
            "progress_percent": self.progress_percent,
            "started": self.started,
            "status": self.status.value,
        }

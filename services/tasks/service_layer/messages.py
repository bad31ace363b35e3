"""Message types of the tasks service's use cases: what subscribers and entrypoints hand to the handlers and what
the handlers return (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.contracts.alerts import IndicatorSnapshotTaken
from services.tasks.domain.access import Principal
from services.tasks.domain.plan import PlanFile


@dataclass(frozen=True)
class LoadedPlan:
    plan: PlanFile
    source: str
    sha256: str


@dataclass(frozen=True)
class SnapshotItem:
    message_id: str
    sequence: int | None
    snapshot: IndicatorSnapshotTaken


@dataclass(frozen=True)
class SnapshotOutcome:
    applied: int
    duplicates: int
    plans: frozenset[str]


@dataclass
class LoadSummary:
    plan_id: str
    created: bool = False
    plan_changed: bool = False
    indicators: dict[str, int] = field(default_factory=lambda: {"inserted": 0, "updated": 0, "retired": 0})
    tasks: dict[str, int] = field(default_factory=lambda: {"inserted": 0, "updated": 0, "retired": 0})

    @property
    def changed(self) -> bool:
        return self.plan_changed or any(self.indicators.values()) or any(self.tasks.values())

    def as_dict(self) -> dict[str, Any]:
        return {"plan_id": self.plan_id, "created": self.created, "indicators": self.indicators, "tasks": self.tasks}


@dataclass(frozen=True)
class NewAuditEntry:
    """A change to record in the audit trail: who did what to which entity, with its state before and after."""

    at: datetime
    actor: Principal
    action: str
    plan_id: str | None
    entity: str
    entity_id: str
    before: Any
    after: Any


@dataclass(frozen=True)
class AuditQuery:
    """Which audit entries to read, newest first; page with `before_id`."""

    plan_id: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    before_id: int | None = None
    limit: int = 100


@dataclass(frozen=True)
class AuditEntry:
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


@dataclass(frozen=True)
class NewTask:
    """A task created through the API: what the tasks repository inserts."""

    plan_id: str
    task_id: str
    position: int
    parent_id: str | None
    section: str
    title: str
    owner: str
    collaborators: tuple[str, ...]
    deadline: date
    content: str
    time_frame: str
    updated_at: datetime
    origin: str = "api"


@dataclass(frozen=True)
class TaskChange:
    """What changes on one task: its progress always, the fields left None stay as they are."""

    progress_percent: int
    started: bool
    updated_at: datetime
    title: str | None = None
    owner: str | None = None
    deadline: date | None = None
    collaborators: tuple[str, ...] | None = None


@dataclass(frozen=True)
class NewTaskReport:
    """One appended progress report of a task."""

    plan_id: str
    task_id: str
    progress_percent: int
    summary: str
    period: str | None
    evidence: str | None
    evidence_url: str | None
    reporter: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class NewIndicatorReport:
    """One appended report of a reported (not live) indicator's value."""

    plan_id: str
    number: int
    value: float
    period: str
    evidence: str | None
    evidence_url: str | None
    reporter: str
    note: str
    recorded_by: str
    recorded_at: datetime

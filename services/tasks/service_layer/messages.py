"""Message types of the tasks service's use cases: what subscribers and entrypoints hand to the handlers and what
the handlers return (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.contracts.alerts import IndicatorSnapshotTaken
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

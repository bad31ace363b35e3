"""The ports of the tasks service's use cases: repositories over plans, tasks, the audit trail, deadline alerts and
live values, grouped in a unit of work that is one transaction (`async with uow: ... await uow.commit()`; leaving
without commit rolls back). The SQL implementation is adapters/unit_of_work.py; unit tests use in-memory fakes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

from services.contracts.alerts import TaskAlertRaised
from services.tasks.domain.alerts import OpenTask
from services.tasks.domain.live import LiveKey, LivePlan, LiveRow
from services.tasks.domain.views import IndicatorView, PlanView, Reading, TaskReportView, TaskView
from services.tasks.service_layer.messages import (
    AuditEntry,
    AuditQuery,
    LoadedPlan,
    LoadSummary,
    NewAuditEntry,
    NewIndicatorReport,
    NewTask,
    NewTaskReport,
    SnapshotItem,
    TaskChange,
)


class PlansRepository(Protocol):
    async def all(self) -> list[PlanView]: ...

    async def get(self, plan_id: str) -> PlanView | None: ...

    async def upsert(self, loaded: LoadedPlan, now: datetime) -> LoadSummary: ...

    async def indicator_views(
        self,
        plan: PlanView,
        number: int | None = None,
        include_retired: bool = False,
        known_before: tuple[datetime, date] | None = None,
    ) -> list[IndicatorView]: ...

    async def indicator_history(self, plan_id: str, number: int, live: bool) -> list[Reading]: ...

    async def add_indicator_report(self, report: NewIndicatorReport) -> None: ...


class TasksRepository(Protocol):
    async def views(
        self,
        plan_id: str,
        today: date,
        *,
        owner: str | None = None,
        reported_before: datetime | None = None,
    ) -> list[TaskView]: ...

    async def get(self, plan_id: str, task_id: str, today: date) -> TaskView | None: ...

    async def reports(self, plan_id: str, task_id: str) -> list[TaskReportView]: ...

    async def add(self, task: NewTask) -> None: ...

    async def update(self, plan_id: str, task_id: str, change: TaskChange) -> None: ...

    async def next_position(self, plan_id: str) -> int: ...

    async def add_report(self, report: NewTaskReport) -> None: ...

    async def open_tasks(self) -> list[OpenTask]: ...


class AuditTrail(Protocol):
    async def record(self, entry: NewAuditEntry) -> None: ...

    async def entries(self, query: AuditQuery) -> list[AuditEntry]: ...


class AlertsRepository(Protocol):
    async def record_new(self, alerts: Sequence[TaskAlertRaised], now: datetime) -> int: ...

    async def unpublished(self, limit: int) -> list[TaskAlertRaised]: ...

    async def mark_published(self, alert_ids: Sequence[str], now: datetime) -> None: ...


class LiveValuesRepository(Protocol):
    async def seen(self, message_ids: Sequence[str]) -> set[str]: ...

    async def record_processed(self, items: Iterable[SnapshotItem], now: datetime) -> None: ...

    async def live_plans(self) -> list[LivePlan]: ...

    async def store(self, folded: dict[LiveKey, LiveRow]) -> set[str]: ...

    async def forget_processed(self, before: datetime) -> int: ...


class UnitOfWork(Protocol):
    plans: PlansRepository
    tasks: TasksRepository
    audit: AuditTrail
    alerts: AlertsRepository
    live: LiveValuesRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class TasksMetricsPort(Protocol):
    def publish(self, plan_id: str, indicators: list[IndicatorView], tasks: list[TaskView]) -> None: ...

    def snapshots(self, applied: int, duplicates: int) -> None: ...

    def alert_published(self, kind: str) -> None: ...

"""The SQL unit of work of the tasks service: one connection and transaction per `async with`, and the store
modules' functions bound to it as the repositories the handlers use (service_layer/unit_of_work.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from services.contracts.alerts import TaskAlertRaised
from services.tasks.adapters import alerts_store, audit_store, live_store, plans_store, tasks_store
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
from services.tasks.service_layer.unit_of_work import (
    AlertsRepository,
    AuditTrail,
    LiveValuesRepository,
    PlansRepository,
    TasksRepository,
    UnitOfWork,
)


class SqlPlans:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def all(self) -> list[PlanView]:
        return await plans_store.plans(self.connection)

    async def get(self, plan_id: str) -> PlanView | None:
        return await plans_store.plan(self.connection, plan_id)

    async def upsert(self, loaded: LoadedPlan, now: datetime) -> LoadSummary:
        return await plans_store.upsert_plan(self.connection, loaded, now)

    async def indicator_views(
        self,
        plan: PlanView,
        number: int | None = None,
        include_retired: bool = False,
        known_before: tuple[datetime, date] | None = None,
    ) -> list[IndicatorView]:
        return await plans_store.indicator_views(self.connection, plan, number, include_retired, known_before)

    async def indicator_history(self, plan_id: str, number: int, live: bool) -> list[Reading]:
        return await plans_store.indicator_history(self.connection, plan_id, number, live)

    async def add_indicator_report(self, report: NewIndicatorReport) -> None:
        await plans_store.insert_indicator_report(self.connection, report)


class SqlTasks:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def views(
        self, plan_id: str, today: date, *, owner: str | None = None, reported_before: datetime | None = None
    ) -> list[TaskView]:
        return await tasks_store.task_views(
            self.connection, plan_id, today, owner=owner, reported_before=reported_before
        )

    async def get(self, plan_id: str, task_id: str, today: date) -> TaskView | None:
        return await tasks_store.task(self.connection, plan_id, task_id, today)

    async def reports(self, plan_id: str, task_id: str) -> list[TaskReportView]:
        return await tasks_store.task_reports(self.connection, plan_id, task_id)

    async def add(self, task: NewTask) -> None:
        await tasks_store.insert_task(self.connection, task)

    async def update(self, plan_id: str, task_id: str, change: TaskChange) -> None:
        await tasks_store.update_task(self.connection, plan_id, task_id, change)

    async def next_position(self, plan_id: str) -> int:
        return await tasks_store.next_position(self.connection, plan_id)

    async def add_report(self, report: NewTaskReport) -> None:
        await tasks_store.insert_task_report(self.connection, report)

    async def open_tasks(self) -> list[OpenTask]:
        return await tasks_store.open_tasks(self.connection)


class SqlAudit:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def record(self, entry: NewAuditEntry) -> None:
        await audit_store.record(self.connection, entry)

    async def entries(self, query: AuditQuery) -> list[AuditEntry]:
        return await audit_store.entries(self.connection, query)


class SqlAlerts:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def record_new(self, alerts: Sequence[TaskAlertRaised], now: datetime) -> int:
        return await alerts_store.record_new(self.connection, alerts, now)

    async def unpublished(self, limit: int) -> list[TaskAlertRaised]:
        return await alerts_store.unpublished(self.connection, limit)

    async def mark_published(self, alert_ids: Sequence[str], now: datetime) -> None:
        await alerts_store.mark_published(self.connection, alert_ids, now)


class SqlLiveValues:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def seen(self, message_ids: Sequence[str]) -> set[str]:
        return await live_store.seen(self.connection, message_ids)

    async def record_processed(self, items: Iterable[SnapshotItem], now: datetime) -> None:
        await live_store.record_processed(self.connection, items, now)

    async def live_plans(self) -> list[LivePlan]:
        return await live_store.live_plans(self.connection)

    async def store(self, folded: dict[LiveKey, LiveRow]) -> set[str]:
        return await live_store.store(self.connection, folded)

    async def forget_processed(self, before: datetime) -> int:
        return await live_store.forget_processed(self.connection, before)


class SqlUnitOfWork:
    """One transaction on the engine; rolled back unless `commit()` was awaited inside the block."""

    plans: PlansRepository
    tasks: TasksRepository
    audit: AuditTrail
    alerts: AlertsRepository
    live: LiveValuesRepository

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._db_connection: AsyncConnection | None = None
        self._transaction: AsyncTransaction | None = None

    async def __aenter__(self) -> Self:
        connection = await self.engine.connect()
        self._db_connection, self._transaction = connection, await connection.begin()
        self.plans, self.tasks, self.audit = SqlPlans(connection), SqlTasks(connection), SqlAudit(connection)
        self.alerts, self.live = SqlAlerts(connection), SqlLiveValues(connection)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        assert self._db_connection is not None
        assert self._transaction is not None
        try:
            if self._transaction.is_active:
                await self._transaction.rollback()
        finally:
            await self._db_connection.close()
            self._db_connection = self._transaction = None

    async def commit(self) -> None:
        assert self._transaction is not None
        await self._transaction.commit()


def sql_unit_of_work(engine: AsyncEngine) -> Callable[[], UnitOfWork]:
    """The factory the handlers take: a fresh unit of work for each use case."""
    return lambda: SqlUnitOfWork(engine)

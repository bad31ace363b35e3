"""The tasks service's use cases on an in-memory unit of work: live values folded and deduplicated, deadline
alerts raised once and kept until published, nothing kept from a unit of work that was not committed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, Self

import pytest

from services.contracts.alerts import TaskAlertRaised
from services.tasks.adapters.plan_file import DEFAULT_PLAN_FILE, read_plan_file
from services.tasks.domain.alerts import OpenTask
from services.tasks.domain.live import LiveKey, LivePlan, LiveRow
from services.tasks.domain.views import PlanView
from services.tasks.service_layer.handlers import TasksService
from services.tasks.service_layer.messages import SnapshotItem
from tests.tasks.helpers import PLAN_ID, Clock, snapshot

NOW = datetime(2026, 5, 15, 3, 0, tzinfo=UTC)


@dataclass
class Tables:
    """What the fake unit of work commits to (the 'database')."""

    processed: set[str] = field(default_factory=set)
    live: dict[LiveKey, LiveRow] = field(default_factory=dict)
    alerts: dict[str, TaskAlertRaised] = field(default_factory=dict)
    published: set[str] = field(default_factory=set)
    open_tasks: list[OpenTask] = field(default_factory=list)
    live_plans: list[LivePlan] = field(default_factory=list)


class FakeLive:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def seen(self, message_ids: Sequence[str]) -> set[str]:
        return set(message_ids) & self.tables.processed

    async def record_processed(self, items: Iterable[SnapshotItem], now: datetime) -> None:
        self.tables.processed |= {item.message_id for item in items}

    async def live_plans(self) -> list[LivePlan]:
        return self.tables.live_plans

    async def store(self, folded: dict[LiveKey, LiveRow]) -> set[str]:
        changed = set()
        for key, row in folded.items():
            if key not in self.tables.live or self.tables.live[key].taken_at < row.taken_at:
                self.tables.live[key] = row
                changed.add(key[0])
        return changed

    async def forget_processed(self, before: datetime) -> int:
        return 0


class FakeAlerts:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def record_new(self, alerts: Sequence[TaskAlertRaised], now: datetime) -> int:
        new = [alert for alert in alerts if alert.alert_id not in self.tables.alerts]
        self.tables.alerts |= {alert.alert_id: alert for alert in new}
        return len(new)

    async def unpublished(self, limit: int) -> list[TaskAlertRaised]:
        waiting = [alert for key, alert in sorted(self.tables.alerts.items()) if key not in self.tables.published]
        return waiting[:limit]

    async def mark_published(self, alert_ids: Sequence[str], now: datetime) -> None:
        self.tables.published |= set(alert_ids)


class FakeTasks:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def open_tasks(self) -> list[OpenTask]:
        return list(self.tables.open_tasks)


class FakePlans:
    async def all(self) -> list[PlanView]:
        return []


class FakeUnitOfWork:
    """Works on a copy of the tables and writes it back on commit only, like a transaction."""

    def __init__(self, committed: Tables) -> None:
        self.committed = committed

    async def __aenter__(self) -> Self:
        self.working = Tables(
            set(self.committed.processed),
            dict(self.committed.live),
            dict(self.committed.alerts),
            set(self.committed.published),
            self.committed.open_tasks,
            self.committed.live_plans,
        )
        self.live, self.alerts = FakeLive(self.working), FakeAlerts(self.working)
        self.tasks, self.plans = FakeTasks(self.working), FakePlans()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        pass

    async def commit(self) -> None:
        self.committed.__dict__.update(self.working.__dict__)


def _service(tables: Tables, now: datetime = NOW) -> TasksService:
    uow: Any = lambda: FakeUnitOfWork(tables)  # noqa: E731 (a structural fake of the UnitOfWork port)
    return TasksService(uow=uow, timezone="Asia/Ho_Chi_Minh", now=Clock(now))


def _live_plan() -> LivePlan:
    plan = read_plan_file(DEFAULT_PLAN_FILE).plan
    live = {spec.live_code: spec for spec in plan.indicators if spec.live_code}
    return LivePlan(PLAN_ID, plan.plan.year, live)


def _live_number(code: str) -> int:
    return _live_plan().indicators[code].number


async def test_latest_snapshot_of_the_day_wins_when_a_batch_carries_them_out_of_order() -> None:
    tables = Tables(live_plans=[_live_plan()])
    early, late = NOW - timedelta(hours=2), NOW - timedelta(hours=1)
    items = [
        SnapshotItem("snapshot:late", 2, snapshot({"I15": (5, 6)}, late, snapshot_id="late")),
        SnapshotItem("snapshot:early", 1, snapshot({"I15": (1, 6)}, early, snapshot_id="early")),
    ]

    outcome = await _service(tables).apply_snapshots(items)

    assert (outcome.applied, outcome.duplicates, outcome.plans) == (2, 0, frozenset({PLAN_ID}))
    row = tables.live[(PLAN_ID, _live_number("I15"), date(2026, 5, 15))]
    assert (row.snapshot_id, row.numerator, row.denominator) == ("late", 5, 6)


async def test_snapshot_changes_nothing_when_it_was_applied_before() -> None:
    tables = Tables(live_plans=[_live_plan()])
    item = SnapshotItem("snapshot:s1", 1, snapshot({"I15": (5, 6)}, NOW, snapshot_id="s1"))
    service = _service(tables)
    await service.apply_snapshots([item])
    stored = dict(tables.live)

    again = await service.apply_snapshots([item, item])

    assert (again.applied, again.duplicates, again.plans) == (0, 2, frozenset())
    assert tables.live == stored


async def test_snapshot_of_another_year_is_recorded_but_fills_nothing_when_no_plan_covers_it() -> None:
    tables = Tables(live_plans=[_live_plan()])
    item = SnapshotItem("snapshot:2027", 1, snapshot({"I15": (5, 6)}, NOW, snapshot_id="y", year=2027))

    outcome = await _service(tables).apply_snapshots([item])

    assert (outcome.applied, outcome.plans, tables.live, tables.processed) == (1, frozenset(), {}, {"snapshot:2027"})


def _overdue_task() -> OpenTask:
    return OpenTask(PLAN_ID, "PL2.NV1", "Thực hiện nhiệm vụ", "VHXH", date(2026, 5, 1), 40)


async def test_overdue_alert_is_recorded_once_when_the_check_runs_twice() -> None:
    tables = Tables(open_tasks=[_overdue_task()])
    service = _service(tables)

    first, second = await service.raise_due_alerts(), await service.raise_due_alerts()

    assert (first, second) == (1, 0)
    assert [alert.kind.value for alert in tables.alerts.values()] == ["overdue"]


async def test_alerts_stay_pending_when_publishing_fails_and_go_out_on_the_next_attempt() -> None:
    tables = Tables(open_tasks=[_overdue_task()])
    service = _service(tables)
    await service.raise_due_alerts()
    sent: list[TaskAlertRaised] = []

    async def unreachable(alerts: list[TaskAlertRaised]) -> None:
        raise ConnectionError("NATS is down")

    async def reachable(alerts: list[TaskAlertRaised]) -> None:
        sent.extend(alerts)

    with pytest.raises(ConnectionError):
        await service.publish_pending(unreachable)
    assert tables.published == set()

    assert await service.publish_pending(reachable) == 1
    assert [alert.task_id for alert in sent] == [f"{PLAN_ID}:PL2.NV1"]
    assert tables.published == set(tables.alerts)

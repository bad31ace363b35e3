"""Plans load idempotently next to each other; snapshots fill the live indicators exactly once."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.tasks.adapters import tables
from services.tasks.adapters.plan_file import DEFAULT_PLAN_FILE, parse_plan
from services.tasks.domain.access import SYSTEM, Principal
from services.tasks.domain.errors import Invalid
from services.tasks.domain.evaluation import IndicatorStatus
from services.tasks.domain.requests import TaskReportIn
from services.tasks.service_layer.handlers import TasksService
from services.tasks.service_layer.handlers_tasks import TaskHandlers
from services.tasks.service_layer.messages import LoadedPlan, SnapshotItem
from tests.tasks.helpers import PLAN_ID, Clock, snapshot

pytestmark = pytest.mark.postgres
VHXH = Principal(name="vhxh", unit="VHXH", admin=False)


def variant(replacements: dict[str, str], source: str = "variant.yaml") -> LoadedPlan:
    text = DEFAULT_PLAN_FILE.read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return LoadedPlan(parse_plan(text, source), source, hashlib.sha256(text.encode()).hexdigest())


async def count(engine: AsyncEngine, table: sa.Table) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


async def test_plan_loads_once_when_the_same_file_is_loaded_twice(
    engine: AsyncEngine, service: TasksService, lam_thao: LoadedPlan
) -> None:
    first = await service.load_plan(lam_thao)
    second = await service.load_plan(lam_thao)
    assert (first.created, first.indicators["inserted"], first.tasks["inserted"]) == (True, 38, 84)
    assert (second.changed, await count(engine, tables.indicators), await count(engine, tables.tasks)) == (
        False,
        38,
        84,
    )
    audit = await service.audit(entity="plan")
    assert [(entry.action, entry.actor, entry.entity_id) for entry in audit] == [("plan.load", "system", PLAN_ID)]


async def test_second_plan_loads_alongside_when_another_year_is_loaded(
    service: TasksService, lam_thao: LoadedPlan
) -> None:
    await service.load_plan(lam_thao)
    next_year = variant({"id: lam-thao-2026": "id: lam-thao-2027", "year: 2026": "year: 2027", "2026: {": "2027: {"})
    await service.load_plan(next_year)
    plans = await service.plans()
    assert [plan.plan_id for plan in plans] == ["lam-thao-2026", "lam-thao-2027"]
    _, indicators = await service.plan_indicators("lam-thao-2027")
    assert (len(indicators), indicators[19].target and indicators[19].target.text) == (38, "≥ 95")
    with pytest.raises(Invalid, match="several plans are loaded"):
        await service.plan_indicators(None)
    service.default_plan = PLAN_ID
    plan, _ = await service.plan_indicators(None)
    assert plan.plan_id == PLAN_ID


async def test_reload_updates_definitions_and_keeps_progress_when_the_file_changes(
    service: TasksService, lam_thao: LoadedPlan
) -> None:
    await service.load_plan(lam_thao)
    handlers = TaskHandlers(service)
    report = TaskReportIn(progress_percent=40, summary="Đã tổ chức 02 lớp tập huấn", reporter="Chuyên viên VHXH")
    await handlers.report(None, "PL2.NV1", report, VHXH)
    changed = variant(
        {
            '"Thực hiện nhiệm vụ khoa học, công nghệ"': '"Thực hiện nhiệm vụ khoa học, công nghệ năm 2026"',
            'trên Hệ thống theodoing.dcs.vn"': 'trên Hệ thống theodoing.dcs.vn định kỳ"',
        }
    )
    removed = changed.plan.model_copy(update={"tasks": [t for t in changed.plan.tasks if t.id != "III.9.f"]})
    summary = await service.load_plan(LoadedPlan(removed, changed.source, changed.sha256), SYSTEM)
    # two retitled tasks; III.10, the eight of section V and PL2.NV1-3 move up one row when III.9.f leaves: 12
    assert (summary.created, summary.tasks) == (False, {"inserted": 0, "updated": 12, "retired": 1})
    _, task, reports = await handlers.get(None, "PL2.NV1")
    assert (task.title, task.progress_percent, len(reports)) == (
        "Thực hiện nhiệm vụ khoa học, công nghệ năm 2026",
        40,
        1,
    )
    _, listed = await handlers.list_tasks(None)
    assert "III.9.f" not in {view.task_id for view in listed}


async def test_snapshot_fills_live_indicators_once_when_delivered_twice(
    engine: AsyncEngine, service: TasksService, lam_thao: LoadedPlan
) -> None:
    await service.load_plan(lam_thao)
    taken = datetime(2026, 5, 15, 2, 0, tzinfo=UTC)
    values = {f"I{n}": (19, 20) for n in range(15, 26)} | {"I22": (0, 0), "ONTIME": (5, 6)}
    item = SnapshotItem("snapshot:s1", 7, snapshot(values, taken, snapshot_id="s1"))
    first = await service.apply_snapshots([item])
    again = await service.apply_snapshots([item, item])
    assert (first.applied, first.plans, again.applied, again.duplicates) == (1, frozenset({PLAN_ID}), 0, 2)
    assert (await count(engine, tables.indicator_live), await count(engine, tables.processed)) == (11, 1)
    _, indicators = await service.plan_indicators(PLAN_ID)
    by_number = {view.spec.number: view for view in indicators}
    assert by_number[20].latest is not None
    assert (by_number[20].latest.value, by_number[20].status) == (95.0, IndicatorStatus.MET)
    assert (by_number[15].latest and by_number[15].latest.value, by_number[15].status) == (
        95.0,
        IndicatorStatus.NOT_MET,
    )
    assert by_number[22].status is IndicatorStatus.NO_DATA
    assert by_number[5].latest is None


async def test_latest_snapshot_wins_when_snapshots_arrive_out_of_order(
    service: TasksService, lam_thao: LoadedPlan
) -> None:
    await service.load_plan(lam_thao)
    day1 = datetime(2026, 5, 14, 9, 0, tzinfo=UTC)
    late, early = datetime(2026, 5, 15, 9, 0, tzinfo=UTC), datetime(2026, 5, 15, 2, 0, tzinfo=UTC)
    items = [
        SnapshotItem("snapshot:late", 3, snapshot({"I20": (9, 10)}, late)),
        SnapshotItem("snapshot:day1", 1, snapshot({"I20": (1, 2)}, day1)),
    ]
    await service.apply_snapshots(items)
    await service.apply_snapshots([SnapshotItem("snapshot:early", 2, snapshot({"I20": (1, 10)}, early))])
    _, view, history = await service.indicator(PLAN_ID, 20)
    assert [(reading.period, reading.value) for reading in history] == [("2026-05-14", 50.0), ("2026-05-15", 90.0)]
    assert (view.latest and view.latest.numerator, view.status) == (9, IndicatorStatus.NOT_MET)


async def test_snapshot_is_ignored_when_no_plan_covers_its_year(
    engine: AsyncEngine, service: TasksService, lam_thao: LoadedPlan
) -> None:
    await service.load_plan(lam_thao)
    item = SnapshotItem("snapshot:2027", 1, snapshot({"I20": (1, 1)}, datetime(2027, 2, 1, tzinfo=UTC), year=2027))
    outcome = await service.apply_snapshots([item])
    assert (outcome.applied, outcome.plans, await count(engine, tables.indicator_live)) == (1, frozenset(), 0)


async def test_alerts_are_recorded_once_when_two_checks_run_at_once(
    engine: AsyncEngine, service: TasksService, lam_thao: LoadedPlan, clock: Clock
) -> None:
    await service.load_plan(lam_thao)
    clock.moment = datetime(2027, 1, 2, 2, 0, tzinfo=UTC)
    raised = await asyncio.gather(service.raise_due_alerts(), service.raise_due_alerts())
    assert (sum(raised), await count(engine, tables.alerts)) == (84, 84)
    assert await service.raise_due_alerts() == 0

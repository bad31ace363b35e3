"""Deadline alerts on DVC_ALERTS: due_soon then overdue, each once per task and deadline, across restarts and
a NATS outage (recorded first, published when NATS is back)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.contracts.alerts import TaskAlertKind, TaskAlertRaised
from services.runtime.nats.embedded import EmbeddedNats
from services.tasks.adapters import tables
from tests.tasks.helpers import Clock, auth, connected, database, eventually, settings_for, started, task_alert_counts

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]
DUE_SOON, OVERDUE = "dvc.alerts.task.due_soon", "dvc.alerts.task.overdue"


async def test_alerts_are_published_once_when_deadlines_near_and_pass_across_restarts(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = Clock(datetime(2026, 6, 1, 2, 0, tzinfo=UTC))
    settings = settings_for(private_nats.url, database_url, tmp_path, due_soon_days=14)
    async with connected(private_nats.url) as js:
        async with started(settings, clock) as running:
            done = {"progress_percent": 100, "summary": "Hoàn thành", "reporter": "An"}
            assert (await running.client.post("/v1/tasks/PL2.NV1/reports", json=done, headers=auth("VHXH"))).is_success
            clock.moment = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)
            running.scheduler.poke()

            async def due_soon() -> dict[str, int] | None:
                counts = await task_alert_counts(js)
                return counts if counts.get(DUE_SOON) == 83 else None

            assert await eventually(due_soon) == {DUE_SOON: 83}
        clock.moment = datetime(2027, 1, 2, 2, 0, tzinfo=UTC)
        async with started(settings, clock) as running:

            async def overdue() -> dict[str, int] | None:
                counts = await task_alert_counts(js)
                return counts if counts.get(OVERDUE) == 83 and running.scheduler.ticks >= 3 else None

            assert await eventually(overdue) == {DUE_SOON: 83, OVERDUE: 83}
        last = await js.get_last_msg("DVC_ALERTS", OVERDUE)
    alert = TaskAlertRaised.model_validate_json(last.data)
    assert last.headers is not None
    assert last.headers["Nats-Msg-Id"] == alert.alert_id == "task-overdue:lam-thao-2026:V:2026-12-31"
    assert (alert.kind, alert.owner_unit, alert.title) == (TaskAlertKind.OVERDUE, "VHXH", "Tổ chức thực hiện")


async def test_alerts_wait_in_the_database_when_nats_is_down_and_go_out_after_restart(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = Clock(datetime(2027, 1, 2, 2, 0, tzinfo=UTC))
    settings = settings_for(private_nats.url, database_url, tmp_path, deadline_check_seconds=3600)
    async with connected(private_nats.url):
        pass
    private_nats.stop()
    async with started(settings, clock) as running:
        outcome = await running.scheduler.tick()
        assert (outcome.published, outcome.publish_error is not None) == (0, True)
        async with database(database_url) as engine, engine.connect() as connection:
            waiting = await connection.scalar(
                sa.select(sa.func.count()).select_from(tables.alerts).where(tables.alerts.c.published_at.is_(None))
            )
        assert waiting == 84
    private_nats.start()
    async with connected(private_nats.url) as js, started(settings, clock) as running:

        async def published() -> dict[str, int] | None:
            counts = await task_alert_counts(js)
            return counts if counts.get(OVERDUE) == 84 else None

        assert await eventually(published) == {OVERDUE: 84}
        assert (await running.scheduler.tick()).raised == 0

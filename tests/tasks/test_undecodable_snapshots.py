"""Issue 11, item 1, for the tasks consumer: a snapshot that passes the schema but whose times overflow when
converted (UTC before year 1 or after 9999) goes to DVC_DLQ on its own; the good snapshot of its batch is
applied. Published straight to the stream."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from nats.js.errors import NotFoundError

from services.runtime.nats.embedded import EmbeddedNats
from tests.metric_helpers import sample
from tests.tasks.helpers import Clock, connected, eventually, indicators_by_number, publish_snapshot, snapshot, started
from tests.tasks.helpers import settings_for as base_settings

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


async def _dead_lettered_alone(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path, clock: Clock, **overflowing_times: str
) -> None:
    settings = base_settings(private_nats.url, database_url, tmp_path, snapshot_replay="all")
    good = snapshot({"I20": (19, 20)}, datetime(2026, 5, 15, 2, 0, tzinfo=UTC))
    older = snapshot({"I20": (1, 20)}, datetime(2026, 5, 14, tzinfo=UTC))
    document: dict[str, Any] = json.loads(older.model_dump_json())
    document.update(overflowing_times)
    bad = json.dumps(document).encode()
    async with connected(private_nats.url) as js:
        # In the stream before the consumer starts, so both arrive in one batch.
        await js.publish("dvc.indicators.snapshot", bad, headers={"Nats-Msg-Id": "overflowing-1"})
        await publish_snapshot(js, good)
        async with started(settings, clock) as running:

            async def applied() -> dict[int, dict[str, Any]] | None:
                rows = await indicators_by_number(running.client)
                return rows if rows[20]["latest"] else None

            rows = await eventually(applied)

            async def dead_lettered() -> Any:
                try:
                    return await js.get_last_msg("DVC_DLQ", "dvc.dlq.tasks")
                except NotFoundError:
                    return None

            dead = await eventually(dead_lettered)
            metrics = (await running.client.get("/metrics")).text
            ready = await running.client.get("/readyz")

    assert rows[20]["value"] == 95.0
    assert dead.data == bad
    assert dead.headers["Dvc-Error-Type"] == "OverflowError"
    assert dead.headers["Dvc-Error"].startswith("invalid: OverflowError: ")
    assert (dead.headers["Dvc-Consumer"], dead.headers["Dvc-Original-Sequence"]) == (settings.consumer, "1")
    assert sample(metrics, "dvc_consumer_dead_lettered_total", consumer=settings.consumer) == 1.0
    assert ready.status_code == 200


async def test_snapshot_taken_0001_01_01_plus_one_hour_is_dead_lettered_when_its_batch_neighbour_is_applied(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    await _dead_lettered_alone(private_nats, database_url, tmp_path, clock, taken_at="0001-01-01T00:00:00+01:00")


async def test_snapshot_ending_9999_12_31_minus_twelve_hours_is_dead_lettered_when_its_batch_neighbour_is_applied(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    await _dead_lettered_alone(private_nats, database_url, tmp_path, clock, period_to="9999-12-31T23:00:00-12:00")

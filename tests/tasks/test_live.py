"""I15-I25 filled from `dvc.indicators.snapshot` published to the real nats-server; exactly once, bad ones to DLQ."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from nats.js.errors import NotFoundError

from services.runtime.nats.embedded import EmbeddedNats
from tests.tasks.helpers import (
    Clock,
    auth,
    connected,
    eventually,
    indicators_by_number,
    publish_snapshot,
    snapshot,
    started,
)
from tests.tasks.helpers import settings_for as base_settings

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]
LIVE = {
    "I15": (48, 50),
    "I16": (12, 12),
    "I17": (30, 40),
    "I18": (40, 40),
    "I19": (20, 25),
    "I20": (19, 20),
    "I21": (8, 10),
    "I22": (17, 20),
    "I23": (0, 0),
    "I24": (9, 10),
    "I25": (100, 100),
    "ONTIME": (38, 40),
}


async def test_live_indicators_fill_when_snapshots_arrive_on_the_stream(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    settings = base_settings(private_nats.url, database_url, tmp_path, snapshot_replay="all")
    taken = datetime(2026, 5, 15, 2, 0, tzinfo=UTC)
    first = snapshot(LIVE, taken)
    async with connected(private_nats.url) as js, started(settings, clock) as running:
        api = running.client
        await publish_snapshot(js, first)
        await js.publish("dvc.indicators.snapshot", b"{not json", headers={"Nats-Msg-Id": "garbage-1"})

        async def filled() -> dict[int, dict[str, Any]] | None:
            rows = await indicators_by_number(api)
            return rows if all(rows[n]["latest"] for n in range(15, 26)) else None

        rows = await eventually(filled)
        assert {n: rows[n]["value"] for n in range(15, 26)} == {
            15: 96.0, 16: 100.0, 17: 75.0, 18: 100.0, 19: 80.0, 20: 95.0,
            21: 80.0, 22: 85.0, 23: None, 24: 90.0, 25: 100.0,
        }  # fmt: skip
        assert {n: rows[n]["status"] for n in (15, 16, 20, 21, 22, 23)} == {
            15: "not_met", 16: "met", 20: "met", 21: "met", 22: "not_met", 23: "no_data"
        }  # fmt: skip
        assert (rows[20]["latest"]["numerator"], rows[20]["latest"]["snapshot_id"]) == (19, first.snapshot_id)

        async def dead_lettered() -> bytes | None:  # the bad message may come in a later batch than the good one
            try:
                return (await js.get_last_msg("DVC_DLQ", "dvc.dlq.tasks")).data
            except NotFoundError:
                return None

        assert await eventually(dead_lettered) == b"{not json"

        await publish_snapshot(js, first, msg_id=f"{first.snapshot_id}:again")  # redelivered content
        later = snapshot(LIVE | {"I20": (20, 20)}, datetime(2026, 5, 16, 2, 0, tzinfo=UTC))
        await publish_snapshot(js, later)

        async def updated() -> dict[str, Any] | None:
            detail = (await api.get("/v1/plan/indicators/20", headers=auth("KT"))).json()
            return detail if detail["value"] == 100.0 else None

        detail = await eventually(updated)
        assert [(entry["period"], entry["value"]) for entry in detail["history"]] == [
            ("2026-05-15", 95.0),
            ("2026-05-16", 100.0),
        ]
        gauge = 'dvc_plan_indicator_value{indicator="20",plan="lam-thao-2026"} 100.0'

        async def refreshed() -> str | None:  # the gauges are refreshed from the database after the commit
            text = (await api.get("/metrics")).text
            return text if gauge in text else None

        metrics = await eventually(refreshed)
        assert "dvc_tasks_snapshots_applied_total 2.0" in metrics
        assert "dvc_tasks_snapshots_duplicate_total 1.0" in metrics

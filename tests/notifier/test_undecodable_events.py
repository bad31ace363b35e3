"""Issue 11, item 1: dossier events and alerts that pass the schema but overflow when converted (a UTC time
before year 1 or after year 9999) go to DVC_DLQ on their own; their batch neighbours still send their SMS.
Published straight to the streams, bypassing ingest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.metric_helpers import sample
from tests.notifier.alert_helpers import at_risk_alert, staff_directory
from tests.notifier.helpers import FakeClock, connected, eventually, publish, running_notifier, settings_for, vn

pytestmark = pytest.mark.timeout(120)


def accepted(code: str, **fields: str) -> dict[str, Any]:
    values = {"time": "2026-03-02T08:15:00+07:00", "due_at": "2026-03-05T17:00:00+07:00", **fields}
    return dossier_event("dossier.accepted", code, **values)


async def _dead_lettered_alone(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path, overflowing: dict[str, Any]
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with connected(private_nats.url) as (_client, js):
        # In the stream before the consumer starts, so the three arrive in one batch.
        await publish(js, [accepted("HS-51"), overflowing, accepted("HS-52")])
        async with running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier:
            sent = await eventually(lambda: notifier.outbox_of(2))
            metrics = await notifier.metrics()
            ready = await notifier.api.get("/readyz")
        dead = await js.get_last_msg("DVC_DLQ", "dvc.dlq.notifier")

    assert sorted(line["text"].split("Hồ sơ ")[1][:5] for line in sent) == ["HS-51", "HS-52"]
    assert dead.data == json.dumps(overflowing, ensure_ascii=False).encode()
    assert dead.headers is not None
    assert dead.headers["Dvc-Error-Type"] == "OverflowError"
    assert (dead.headers["Dvc-Consumer"], dead.headers["Dvc-Original-Sequence"]) == ("notifier", "2")
    assert sample(metrics, "dvc_consumer_dead_lettered_total", consumer="notifier") == 1.0
    assert ready.status_code == 200


async def test_event_timed_0001_01_01_plus_one_hour_is_dead_lettered_when_its_batch_neighbours_send_their_sms(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    overflowing = accepted("HS-YEAR-0", time="0001-01-01T00:00:00+01:00")
    await _dead_lettered_alone(private_nats, database_url, tmp_path, overflowing)


async def test_event_due_9999_12_31_minus_twelve_hours_is_dead_lettered_when_its_batch_neighbours_send_their_sms(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    overflowing = accepted("HS-YEAR-10000", due_at="9999-12-31T23:00:00-12:00")
    await _dead_lettered_alone(private_nats, database_url, tmp_path, overflowing)


async def test_alert_due_9999_12_31_minus_twelve_hours_is_dead_lettered_when_its_batch_neighbour_reminds_the_officer(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    staff = staff_directory(tmp_path)
    clock = FakeClock(vn("2026-03-04T09:00:10"))
    settings = settings_for(private_nats.url, database_url, tmp_path, staff_directory=staff)
    good = at_risk_alert("HS-061")
    document = json.loads(good.model_copy(update={"alert_id": "at_risk:HS-062"}).model_dump_json())
    bad = json.dumps({**document, "dossier_code": "HS-062", "due_at": "9999-12-31T23:00:00-12:00"}).encode()
    async with connected(private_nats.url) as (_client, js):
        # In the stream before the consumer starts, so both arrive in one batch.
        await js.publish("dvc.alerts.dossier.at_risk", bad, headers={"Nats-Msg-Id": "at_risk:HS-062"})
        await js.publish(
            "dvc.alerts.dossier.at_risk", good.model_dump_json().encode(), headers={"Nats-Msg-Id": good.alert_id}
        )
        async with running_notifier(settings, clock) as notifier:
            sent = await eventually(lambda: notifier.outbox_of(1))
            metrics = await notifier.metrics()
        dead = await js.get_last_msg("DVC_DLQ", "dvc.dlq.notifier")

    assert [line["text"].split(" (TTHC")[0] for line in sent] == ["DVC Pulse: Ho so HS-061"]
    assert dead.data == bad
    assert dead.headers is not None
    assert (dead.headers["Dvc-Error-Type"], dead.headers["Dvc-Consumer"]) == ("OverflowError", "notifier-alerts")
    assert sample(metrics, "dvc_consumer_dead_lettered_total", consumer="notifier-alerts") == 1.0
    assert sample(metrics, "dvc_consumer_dead_lettered_total", consumer="notifier") == 0.0

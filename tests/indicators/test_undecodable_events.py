"""Issue 11, item 1: events that pass the schema but overflow when converted (a UTC time before year 1 or after
year 9999) go to DVC_DLQ on their own; their batch neighbours are applied. Published straight to the stream,
as a producer bypassing ingest (or an ingest of another version) would."""

from __future__ import annotations

import json

import pytest

from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.indicators.app_helpers import connected, eventually, indicators, publish, running_app, settings_for
from tests.metric_helpers import sample

pytestmark = pytest.mark.timeout(120)


def accepted(code: str, channel: str, **fields: str) -> dict[str, object]:
    values = {"time": "2026-03-02T08:00:00+07:00", "due_at": "2026-03-04T17:00:00+07:00", **fields}
    return dossier_event("dossier.accepted", code, channel=channel, **values)


async def _dead_lettered_alone(private_nats: EmbeddedNats, database_url: str, overflowing: dict[str, object]) -> None:
    async with connected(private_nats.url) as (_client, js):
        # In the stream before the consumer starts, so the three arrive in one batch.
        await publish(js, [accepted("HS-41", "online"), overflowing, accepted("HS-42", "direct")])
        async with running_app(settings_for(private_nats.url, database_url)) as api:

            async def both_applied() -> dict[str, dict[str, object]] | None:
                rows = await indicators(api)
                return rows if rows["I20"]["denominator"] == 2 else None

            rows = await eventually(both_applied)
            metrics = (await api.get("/metrics")).text
            ready = await api.get("/readyz")
            info = await js.consumer_info("DVC_EVENTS", "indicators")
        dead = await js.get_last_msg("DVC_DLQ", "dvc.dlq.indicators")

    assert (rows["I20"]["numerator"], rows["I20"]["denominator"]) == (1, 2)
    assert dead.headers is not None
    assert dead.data == json.dumps(overflowing, ensure_ascii=False).encode()
    assert dead.headers["Dvc-Error-Type"] == "OverflowError"
    assert dead.headers["Dvc-Error"].startswith("invalid: OverflowError: ")
    assert (dead.headers["Dvc-Consumer"], dead.headers["Dvc-Original-Sequence"]) == ("indicators", "2")
    assert sample(metrics, "dvc_consumer_dead_lettered_total", consumer="indicators") == 1.0
    assert sample(metrics, "dvc_consumer_redeliveries_total", consumer="indicators") == 0.0
    assert (sample(metrics, "dvc_consumer_last_applied_timestamp_seconds", consumer="indicators") or 0.0) > 0.0
    assert ready.status_code == 200
    assert (info.num_ack_pending, info.num_redelivered, info.num_pending) == (0, 0, 0)


async def test_event_timed_0001_01_01_plus_one_hour_is_dead_lettered_when_its_batch_neighbours_are_applied(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    overflowing = accepted("HS-YEAR-0", "online", time="0001-01-01T00:00:00+01:00")
    await _dead_lettered_alone(private_nats, database_url, overflowing)


async def test_event_due_9999_12_31_minus_twelve_hours_is_dead_lettered_when_its_batch_neighbours_are_applied(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    overflowing = accepted("HS-YEAR-10000", "online", due_at="9999-12-31T23:00:00-12:00")
    await _dead_lettered_alone(private_nats, database_url, overflowing)

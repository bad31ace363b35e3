from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import format_datetime

import pytest

from services.simulator.calendar import VN_TIMEZONE
from services.simulator.envelopes import SimEvent
from services.simulator.generator import generate
from services.simulator.sender import HttpSender, SendError, retry_after_seconds
from tests.simulator.fake_ingest import Script, fake_ingest

DAY = datetime(2026, 3, 2, tzinfo=VN_TIMEZONE)


@pytest.fixture(scope="module")
def events() -> list[SimEvent]:
    return generate(21, DAY, DAY + timedelta(days=3)).events


async def test_batch_resent_with_same_ids_when_ingest_answers_503_then_202(events: list[SimEvent]) -> None:
    script = Script([(503, {"Retry-After": "1"}), (202, {})])
    events = events[:120]
    with fake_ingest(script) as url:
        async with HttpSender(url, "demo-key", batch_size=500, max_attempts=5) as sender:
            await sender.send(events)
    first, second = script.requests
    assert first["ids"] == second["ids"] == [event.document["id"] for event in events]
    assert (sender.stats.accepted, sender.stats.retries, sender.stats.batches) == (120, 1, 1)


async def test_batch_mode_with_bearer_key_when_posting(events: list[SimEvent]) -> None:
    script = Script([(202, {})])
    with fake_ingest(script) as url:
        async with HttpSender(url, "k3y", batch_size=50, concurrency=3) as sender:
            await sender.send(events[:160])
    assert {r["path"] for r in script.requests} == {"/v1/events"}
    assert {r["content_type"] for r in script.requests} == {"application/cloudevents-batch+json"}
    assert {r["authorization"] for r in script.requests} == {"Bearer k3y"}
    assert sorted(len(r["ids"]) for r in script.requests) == [10, 50, 50, 50]
    assert sender.stats.accepted == 160


async def test_send_error_without_retry_when_ingest_answers_422(events: list[SimEvent]) -> None:
    script = Script([(422, {})])
    with fake_ingest(script) as url:
        async with HttpSender(url, "demo-key", max_attempts=5) as sender:
            with pytest.raises(SendError, match="422"):
                await sender.send(events[:3])
    assert len(script.requests) == 1


async def test_send_error_after_max_attempts_when_connection_refused(events: list[SimEvent]) -> None:
    async with HttpSender("http://127.0.0.1:9", "demo-key", max_attempts=3, max_wait=0.05) as sender:
        with pytest.raises(SendError, match="3 attempts"):
            await sender.send(events[:1])
    assert sender.stats.retries == 2


def test_retry_after_read_when_seconds_or_http_date() -> None:
    now = datetime(2026, 3, 2, 8, 0, tzinfo=VN_TIMEZONE)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=False), now) == 30.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None

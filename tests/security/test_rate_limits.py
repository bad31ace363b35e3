"""Per-key rate limits on every write: a token bucket per key, 429 problem+json with Retry-After."""

from __future__ import annotations

from pathlib import Path

import httpx

from services.runtime.http_limits import RateLimit, TokenBuckets
from tests.security.apps import Keys, tasks_app


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_burst_then_waits_for_refill_when_it_writes_faster_than_its_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(RateLimit(per_second=2.0, burst=3), clock=clock)

    burst = [buckets.take("a") for _ in range(3)]
    refused = buckets.take("a")
    other_key = buckets.take("b")
    clock.now += 0.5
    refilled = buckets.take("a")

    assert burst == [0.0, 0.0, 0.0]
    assert refused == 0.5
    assert other_key == 0.0
    assert refilled == 0.0


async def test_writes_over_the_limit_get_429_with_retry_after_when_one_key_sends_too_many(tmp_path: Path) -> None:
    app, keys = tasks_app(tmp_path, rate_limit_burst=2, rate_limit_per_second=0.1)
    assert isinstance(keys, Keys)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://limits") as client:
        writes = [await client.post("/v1/tasks", json={}, headers=keys.headers["right"]) for _ in range(3)]
        other_key = await client.post("/v1/tasks", json={}, headers=keys.headers["other"])
        read = await client.get("/v1/plans")
        keyed_read = await client.get("/v1/audit", headers=keys.headers["right"])
        anonymous = await client.post("/v1/tasks", json={})

    assert [answer.status_code == 429 for answer in writes] == [False, False, True]
    limited = writes[2]
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.headers["retry-after"] == "10"
    assert limited.json()["retry_after_seconds"] == 10
    assert limited.json()["title"] == "Too Many Requests"
    assert other_key.status_code != 429  # each key has its own bucket
    assert read.status_code != 429
    assert keyed_read.status_code != 429  # reads are not limited
    assert anonymous.status_code == 401  # refused before any bucket

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import nats
import orjson

from services.runtime.nats.embedded import EmbeddedNats, free_port
from services.runtime.nats.streams import apply_streams
from tests.factories import dossier_event
from tests.ingest.conftest import BATCH, make_settings, post_events, running_app, wait_status


async def _apply_streams(url: str) -> None:
    client = await nats.connect(url)
    try:
        await apply_streams(client.jetstream())
    finally:
        await client.close()


async def wait_reason(client: httpx.AsyncClient, check: str, text: str = "", timeout: float = 20.0) -> dict[str, str]:
    """Poll /readyz until `check` reports a reason containing `text`; returns the reasons."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        reasons: dict[str, str] = (await client.get("/readyz")).json().get("reasons", {})
        if (text in reasons.get(check, "") and check in reasons) or asyncio.get_running_loop().time() > deadline:
            return reasons
        await asyncio.sleep(0.1)


async def test_post_answers_503_with_retry_after_when_nats_stops_then_202_when_it_restarts(
    private_nats: EmbeddedNats, tmp_path: Path
) -> None:
    await _apply_streams(private_nats.url)
    first = [dossier_event("dossier.accepted") for _ in range(3)]
    retried = [dossier_event("dossier.processed") for _ in range(3)]
    async with running_app(make_settings(private_nats.url, tmp_path / "var")) as client:
        assert (await post_events(client, first, BATCH)).status_code == 202

        private_nats.stop()
        not_ready = await wait_reason(client, "nats")
        refused = await post_events(client, retried, BATCH)

        assert not_ready["nats"] == "not connected to NATS"
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "2"
        assert refused.headers["content-type"] == "application/problem+json"
        assert "Nothing was acknowledged" in refused.json()["detail"]

        private_nats.start()
        assert (await wait_status(client, "/readyz", 200)).status_code == 200
        accepted = await post_events(client, retried, BATCH)
        again = await post_events(client, first, BATCH)

        assert accepted.status_code == 202
        assert accepted.json()["accepted"] == 3
        assert again.json()["duplicates"] == 3
        metrics = (await client.get("/metrics")).text
        rejected = 'outcome="rejected",reason="unavailable",type="dossier.processed"} 3.0'
        assert 'dvc_ingest_events_total{ingress="http",' + rejected in metrics
    stored = await nats.connect(private_nats.url)
    info = await stored.jetstream().stream_info("DVC_EVENTS")
    await stored.close()
    assert info.state.messages == 6


async def test_app_serves_and_answers_503_when_nats_is_down_at_start_then_accepts_once_it_is_up(
    tmp_path: Path,
) -> None:
    server = EmbeddedNats(free_port(), tmp_path / "nats")
    event = dossier_event("dossier.submitted")
    async with running_app(make_settings(server.url, tmp_path / "var"), ready=False) as client:
        healthy = await client.get("/healthz")
        not_ready = await client.get("/readyz")
        refused = await post_events(client, event)

        assert healthy.status_code == 200
        assert not_ready.status_code == 503
        assert refused.status_code == 503
        assert "not connected to NATS" in refused.json()["detail"]

        server.start()
        try:
            await _apply_streams(server.url)
            assert (await wait_status(client, "/readyz", 200)).status_code == 200
            accepted = await post_events(client, event)
        finally:
            server.stop()
    assert accepted.status_code == 202


async def test_readiness_and_post_report_the_missing_stream_when_streams_were_not_applied(
    private_nats: EmbeddedNats, tmp_path: Path
) -> None:
    async with running_app(make_settings(private_nats.url, tmp_path), ready=False) as client:
        not_ready = await wait_reason(client, "streams", "DVC_EVENTS")
        refused = await client.post(
            "/v1/events",
            content=orjson.dumps(dossier_event("dossier.accepted")),
            headers={"content-type": "application/json", "authorization": "Bearer dvcik_test-commune-key"},
        )

    assert not_ready["streams"] == "streams missing: DVC_EVENTS (run `dvc-pulse streams apply`)"
    assert refused.status_code == 503

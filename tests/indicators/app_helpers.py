"""Run the indicators app against a real nats-server and database; publish events to DVC_EVENTS."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import nats
from asgi_lifespan import LifespanManager
from nats.aio.client import Client
from nats.js import JetStreamContext

from services.contracts.events import EventType
from services.contracts.subjects import event_subject
from services.indicators.bootstrap import create_app
from services.indicators.settings import Settings
from services.runtime.nats.streams import apply_streams
from tests.polling import eventually as eventually  # the helpers' callers import it from here


def settings_for(nats_url: str, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "nats_url": nats_url,
        "database_url": database_url,
        "idle_poll_seconds": 1.0,
        "snapshot_min_interval_seconds": 0.05,
        "max_deliver": 3,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, early_warning=False)
    async with (
        LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://indicators") as client,
    ):
        yield client


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[tuple[Client, JetStreamContext]]:
    client = await nats.connect(url)
    js = client.jetstream()
    await apply_streams(js)
    try:
        yield client, js
    finally:
        await client.close()


async def publish(js: JetStreamContext, events: Sequence[dict[str, Any]], *, msg_id_suffix: str = "") -> None:
    for event in events:
        subject = event_subject(EventType(event["type"]))
        headers = {"Nats-Msg-Id": f"{event['source']}:{event['id']}{msg_id_suffix}"}
        await js.publish(subject, json.dumps(event, ensure_ascii=False).encode(), headers=headers)


async def indicators(client: httpx.AsyncClient, **params: str) -> dict[str, dict[str, Any]]:
    query = {"from": "2026-01-01", "to": "2027-01-01", **params}
    response = await client.get("/v1/indicators", params=query)
    assert response.status_code == 200, response.text
    return {row["code"]: row for row in response.json()}

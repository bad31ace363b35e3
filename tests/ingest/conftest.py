"""The real ingest app (lifespan, broker, keys) on a real nats-server, driven through httpx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from nats.js import JetStreamContext

from services.ingest.bootstrap import create_app
from services.ingest.domain.keys import KeySpec
from services.ingest.settings import Settings
from services.runtime.api_keys import hash_key
from services.runtime.nats.embedded import EmbeddedNats

COMMUNE_KEY = "dvcik_test-commune-key"
GATEWAY_KEY = "dvcik_test-gateway-key"
TEST_KEYS = [
    KeySpec(name="one-stop", sha256=hash_key(COMMUNE_KEY), sources=("urn:dvc:*",)),
    KeySpec(name="payments", sha256=hash_key(GATEWAY_KEY), sources=("urn:pay:gateway",)),
]
STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"


def make_settings(nats_url: str, var_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"nats_url": nats_url, "var_dir": var_dir, "keys": TEST_KEYS, **overrides}
    return Settings(**values)


def headers(content_type: str = STRUCTURED, key: str = COMMUNE_KEY, **extra: str) -> dict[str, str]:
    return {"content-type": content_type, "authorization": f"Bearer {key}", **extra}


@asynccontextmanager
async def running_app(settings: Settings, *, ready: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(manager.app), base_url="http://ingest") as client,
    ):
        if ready:
            await wait_status(client, "/readyz", 200)
        yield client


async def wait_status(client: httpx.AsyncClient, path: str, status: int, timeout: float = 20.0) -> httpx.Response:
    """Poll `path` until it answers `status` (readiness follows the broker's background connection)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get(path)
        if response.status_code == status or asyncio.get_running_loop().time() > deadline:
            return response
        await asyncio.sleep(0.1)


async def post_events(
    client: httpx.AsyncClient, body: Any, content_type: str = STRUCTURED, **extra: str
) -> httpx.Response:
    return await client.post("/v1/events", content=orjson.dumps(body), headers=headers(content_type, **extra))


async def stream_count(js: JetStreamContext) -> int:
    return int((await js.stream_info("DVC_EVENTS")).state.messages)


@pytest.fixture
async def ingest(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the session server (streams applied), ready to accept events."""
    async with running_app(make_settings(nats_server.url, tmp_path)) as client:
        yield client

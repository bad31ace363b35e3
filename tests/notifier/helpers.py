"""Run the notifier against a real nats-server and database with a controlled clock; read the SMS outbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from nats.aio.client import Client
from nats.js import JetStreamContext

from services.contracts.events import EventType
from services.contracts.subjects import event_subject
from services.notifier.adapters.crypto import new_key
from services.notifier.adapters.providers import read_outbox
from services.notifier.bootstrap import create_app
from services.notifier.domain.operators import KeySpec
from services.notifier.service_layer.dispatcher import Dispatcher
from services.notifier.settings import Settings
from services.runtime.api_keys import hash_key
from services.runtime.nats.streams import apply_streams
from tests.factories import VN
from tests.polling import eventually as eventually  # the helpers' callers import it from here

KEY = new_key()
HASH_KEY = new_key()
OPERATOR_KEY = "dvcnk_test-operator-key"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_KEY}"}
OUTBOX_TOKEN = "test-outbox-callback-token"
PROVIDER = {"Authorization": f"Bearer {OUTBOX_TOKEN}"}


class FakeClock:
    """The injected clock: tests move time; nothing in the service reads the wall clock for decisions."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment

    def advance(self, delta: timedelta) -> None:
        self.current += delta


def vn(text: str) -> datetime:
    """`2026-03-02 08:15` in Vietnam time."""
    return datetime.fromisoformat(text).replace(tzinfo=VN)


def settings_for(nats_url: str, database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "nats_url": nats_url,
        "database_url": database_url,
        "var_dir": tmp_path / "var",
        "encryption_key": KEY,
        "hash_key": HASH_KEY,
        "batch_timeout": 0.1,
        "dispatch_interval_seconds": 0.05,
        "max_deliver": 3,
        "sender": "UBND LamThao",
        "keys": [KeySpec(name="test-operator", sha256=hash_key(OPERATOR_KEY))],
        "providers": f"[{{kind: outbox, receipt_token: {OUTBOX_TOKEN}}}]",  # callbacks need a token (fail closed)
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class RunningNotifier:
    app: FastAPI
    api: httpx.AsyncClient
    outbox_path: Path

    @property
    def dispatcher(self) -> Dispatcher:
        dispatcher: Dispatcher = self.app.state.dispatcher
        return dispatcher

    def outbox(self) -> list[dict[str, Any]]:
        return read_outbox(self.outbox_path)

    def outbox_of(self, count: int) -> list[dict[str, Any]] | None:
        """The outbox once it holds `count` messages (for `eventually`)."""
        lines = self.outbox()
        return lines if len(lines) >= count else None

    async def notifications(self, **params: str) -> list[dict[str, Any]]:
        response = await self.api.get("/v1/notifications", params=params, headers=OPERATOR)
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()
        return rows

    async def metrics(self) -> str:
        return (await self.api.get("/metrics")).text


@asynccontextmanager
async def running_notifier(settings: Settings, clock: FakeClock) -> AsyncIterator[RunningNotifier]:
    """The app with its lifespan (consumers, dispatcher); the streams are applied first, as `make up` does."""
    async with connected(settings.nats_servers[0]):
        pass
    app = create_app(settings, now=clock)
    async with (
        LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://notifier") as client,
    ):
        yield RunningNotifier(app, client, settings.var_dir / "sms-outbox.jsonl")


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


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus text exposition."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series, value = line.rsplit(" ", 1)
        metric, _, label_text = series.partition("{")
        if metric != name:
            continue
        found = ",".join(sorted(label_text.rstrip("}").split(","))) if label_text else ""
        if found == wanted:
            return float(value)
    return None

"""Run the tasks app against a real nats-server and database, with keys for three units and an admin."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from services.contracts.alerts import IndicatorSnapshotTaken, IndicatorValue
from services.contracts.streams import ALERTS
from services.contracts.subjects import INDICATORS_SNAPSHOT
from services.runtime.api_keys import hash_key
from services.runtime.db import create_engine
from services.runtime.nats.streams import apply_streams
from services.tasks.adapters.plan_file import DEFAULT_PLAN_FILE
from services.tasks.bootstrap import create_app
from services.tasks.service_layer.handlers import TasksService
from services.tasks.service_layer.scheduler import DeadlineScheduler
from services.tasks.settings import Settings
from tests.polling import eventually as eventually  # the helpers' callers import it from here

VN = timedelta(hours=7)
KEYS = {"admin": "test-admin-key", "VHXH": "test-vhxh-key", "HCC": "test-hcc-key", "KT": "test-kt-key"}
PLAN_ID = "lam-thao-2026"


class Clock:
    """An injected clock the test moves."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def key_specs() -> str:
    specs: list[dict[str, Any]] = []
    for owner, key in KEYS.items():
        spec: dict[str, Any] = {"name": f"test-{owner.lower()}", "sha256": hash_key(key)}
        spec.update({"admin": True} if owner == "admin" else {"unit": owner})
        specs.append(spec)
    return json.dumps(specs)


def auth(owner: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[owner]}"}


def settings_for(nats_url: str, database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "nats_url": nats_url,
        "database_url": database_url,
        "var_dir": tmp_path,
        "keys": key_specs(),
        "plan_file": DEFAULT_PLAN_FILE,
        "consumer": f"tasks-{uuid.uuid4().hex[:8]}",
        "snapshot_replay": "new",
        "batch_timeout": 0.2,
        "max_deliver": 3,
        "deadline_check_seconds": 0.2,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Running:
    client: httpx.AsyncClient
    app: FastAPI

    @property
    def service(self) -> TasksService:
        service: TasksService = self.app.state.tasks
        return service

    @property
    def scheduler(self) -> DeadlineScheduler:
        scheduler: DeadlineScheduler = self.app.state.scheduler
        return scheduler


@asynccontextmanager
async def database(url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of the test's own on the service's database (to read or plant rows directly)."""
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def started(settings: Settings, clock: Callable[[], datetime]) -> AsyncIterator[Running]:
    app = create_app(settings, now=clock)
    async with (
        LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://tasks") as client,
    ):
        yield Running(client, app)


@asynccontextmanager
async def running_app(settings: Settings, clock: Callable[[], datetime]) -> AsyncIterator[httpx.AsyncClient]:
    async with started(settings, clock) as running:
        yield running.client


def snapshot(
    values: dict[str, tuple[int, int]], taken_at: datetime, *, snapshot_id: str | None = None, year: int = 2026
) -> IndicatorSnapshotTaken:
    """A snapshot as the indicators service publishes it: `{code: (numerator, denominator)}`."""
    start = datetime(year, 1, 1, tzinfo=UTC) - VN
    return IndicatorSnapshotTaken(
        snapshot_id=snapshot_id or f"indicators-{taken_at:%Y%m%dT%H%M%S.%fZ}",
        period_from=start.astimezone(UTC),
        period_to=datetime(year + 1, 1, 1, tzinfo=UTC) - VN,
        taken_at=taken_at,
        indicators=[
            IndicatorValue(code=code, numerator=num, denominator=den, value=None if den == 0 else num / den)
            for code, (num, den) in values.items()
        ],
    )


async def indicators_by_number(client: httpx.AsyncClient, **params: str) -> dict[int, dict[str, Any]]:
    response = await client.get("/v1/plan/indicators", params=params, headers=auth("KT"))
    assert response.status_code == 200, response.text
    return {row["number"]: row for row in response.json()}


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[JetStreamContext]:
    """A NATS connection with the contract's streams applied."""
    client = await nats.connect(url)
    js = client.jetstream()
    await apply_streams(js)
    try:
        yield js
    finally:
        await client.close()


async def publish_snapshot(js: JetStreamContext, message: IndicatorSnapshotTaken, msg_id: str | None = None) -> None:
    headers = {"Nats-Msg-Id": msg_id or message.snapshot_id}
    await js.publish(INDICATORS_SNAPSHOT, message.model_dump_json().encode(), headers=headers)


async def task_alert_counts(js: JetStreamContext) -> dict[str, int]:
    info = await js.stream_info(ALERTS.name, subjects_filter="dvc.alerts.task.>")
    return dict(info.state.subjects or {})

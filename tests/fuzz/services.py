"""The four services as the fuzzer meets them: each app built by its own `create_app()`, served by a real uvicorn
on a free port (its lifespan: NATS connection, migrations, consumers) in a thread of the test process, against a
nats-server and databases of the fuzz run's own (PostgreSQL with DVC_TEST_POSTGRES_URL, else SQLite files), with
a valid key of each service's kind."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from services.indicators.bootstrap import create_app as create_indicators
from services.indicators.settings import Settings as IndicatorsSettings
from services.ingest.bootstrap import create_app as create_ingest
from services.ingest.domain.keys import KeySpec as IngestKey
from services.ingest.settings import Settings as IngestSettings
from services.notifier.adapters.crypto import new_key as new_encryption_key
from services.notifier.bootstrap import create_app as create_notifier
from services.notifier.domain.operators import KeySpec as OperatorKey
from services.notifier.settings import Settings as NotifierSettings
from services.runtime.api_keys import hash_key
from services.runtime.nats.embedded import free_port
from services.tasks.adapters.plan_file import DEFAULT_PLAN_FILE
from services.tasks.bootstrap import create_app as create_tasks
from services.tasks.settings import Settings as TasksSettings
from tests.conftest import POSTGRES_URL

INGEST_KEY = "dvcik_fuzz-any-source"
TASKS_ADMIN_KEY = "dvctk_fuzz-admin"
NOTIFIER_OPERATOR_KEY = "dvcnk_fuzz-operator"
OUTBOX_TOKEN = "fuzz-outbox-callback-token"


@dataclass
class ServedApp:
    """An app under uvicorn in a thread; `url` is its base URL, `headers` what every fuzzed request carries."""

    name: str
    app: FastAPI
    headers: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    client: httpx.Client = field(default_factory=httpx.Client)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @contextmanager
    def running(self, ready_timeout: float = 60.0) -> Iterator[ServedApp]:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False, lifespan="on"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"fuzz-{self.name}", daemon=True)
        thread.start()
        try:
            _wait_ready(self.url, ready_timeout)
            self.client = httpx.Client(base_url=self.url, timeout=30.0)
            yield self
        finally:
            self.client.close()
            server.should_exit = True
            thread.join(timeout=30)


def _wait_ready(url: str, timeout: float) -> None:
    """Until /readyz answers 200: the broker connected, migrations applied, the plan loaded."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{url}/readyz", timeout=2.0)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.TransportError as error:
            last = repr(error)
        time.sleep(0.1)
    raise AssertionError(f"{url} not ready in {timeout} s: {last}")


async def _postgres_admin(statement: str) -> None:
    import asyncpg

    url = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


@contextmanager
def fuzz_database(var_dir: Path, name: str) -> Iterator[str]:
    """A fresh PostgreSQL database when DVC_TEST_POSTGRES_URL is set (PostgreSQL refuses what SQLite stores,
    NUL in text for one), else a SQLite file."""
    if not POSTGRES_URL:
        yield f"sqlite+aiosqlite:///{var_dir / f'{name}.db'}"
        return
    database = f"dvc_fuzz_{name}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{database}"'))
    try:
        yield (
            make_url(POSTGRES_URL)
            .set(drivername="postgresql+asyncpg", database=database)
            .render_as_string(hide_password=False)
        )
    finally:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def ingest_app(nats_url: str, var_dir: Path) -> ServedApp:
    key = IngestKey(name="fuzz", sha256=hash_key(INGEST_KEY), sources=("*",))
    settings = IngestSettings(nats_url=nats_url, var_dir=var_dir / "ingest", keys=[key], max_body_bytes=256 * 1024)
    return ServedApp("ingest", create_ingest(settings), {"Authorization": f"Bearer {INGEST_KEY}"})


def indicators_app(nats_url: str, var_dir: Path, database_url: str) -> ServedApp:
    settings = IndicatorsSettings(
        nats_url=nats_url,
        database_url=database_url,
        var_dir=var_dir / "indicators",
        idle_poll_seconds=0.5,
        max_deliver=2,
    )
    return ServedApp("indicators", create_indicators(settings))


def tasks_app(nats_url: str, var_dir: Path, database_url: str) -> ServedApp:
    keys: list[dict[str, Any]] = [{"name": "fuzz-admin", "sha256": hash_key(TASKS_ADMIN_KEY), "admin": True}]
    settings = TasksSettings(
        nats_url=nats_url,
        database_url=database_url,
        var_dir=var_dir / "tasks",
        keys=json.dumps(keys),
        plan_file=DEFAULT_PLAN_FILE,
        snapshot_replay="new",
        max_deliver=2,
    )
    return ServedApp("tasks", create_tasks(settings), {"Authorization": f"Bearer {TASKS_ADMIN_KEY}"})


def notifier_app(nats_url: str, var_dir: Path, database_url: str) -> ServedApp:
    settings = NotifierSettings(
        nats_url=nats_url,
        database_url=database_url,
        var_dir=var_dir / "notifier",
        encryption_key=new_encryption_key(),
        hash_key=new_encryption_key(),
        providers=f"[{{kind: outbox, receipt_token: {OUTBOX_TOKEN}}}]",  # callbacks need a token (fail closed)
        sender="UBND LamThao",
        keys=[OperatorKey(name="fuzz-operator", sha256=hash_key(NOTIFIER_OPERATOR_KEY))],
        max_deliver=2,
    )
    return ServedApp("notifier", create_notifier(settings), {"Authorization": f"Bearer {NOTIFIER_OPERATOR_KEY}"})

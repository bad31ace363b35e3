"""Shared test harness: a real nats-server from the wheel, the streams, and SQLite/PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from hypothesis import settings
from nats.aio.client import Client
from nats.js import JetStreamContext
from sqlalchemy.engine import make_url

from services.runtime.nats.embedded import EmbeddedNats, free_port
from services.runtime.nats.streams import apply_streams

# CI replays the same examples every run: derandomized, a fixed number of them, no per-example deadline on a
# loaded machine, no example database. DVC_HYPOTHESIS_PROFILE=ci selects it anywhere (CI=true selects it in CI).
settings.register_profile("ci", derandomize=True, max_examples=100, deadline=None, database=None, print_blob=True)
HYPOTHESIS_PROFILE = os.environ.get("DVC_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "")
if HYPOTHESIS_PROFILE:
    settings.load_profile(HYPOTHESIS_PROFILE)

POSTGRES_URL = os.environ.get("DVC_TEST_POSTGRES_URL", "")
DATABASE_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    """One JetStream server for the session; tests isolate themselves by stream content, not by server."""
    server = EmbeddedNats(free_port(), tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A server of the test's own, for tests that stop and restart it."""
    server = EmbeddedNats(free_port(), tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def nats_client(nats_server: EmbeddedNats) -> AsyncIterator[Client]:
    client = await nats.connect(nats_server.url)
    await apply_streams(client.jetstream())
    yield client
    await client.close()


@pytest.fixture(scope="session")
async def jetstream(nats_client: Client) -> JetStreamContext:
    """JetStream on the session server with the four streams applied."""
    return nats_client.jetstream()


def _postgres_admin_url() -> str:
    url = make_url(POSTGRES_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(params=DATABASE_BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: a SQLite file, or (with DVC_TEST_POSTGRES_URL) a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("DVC_TEST_POSTGRES_URL is not set")
    import asyncpg

    name = f"dvc_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_postgres_admin_url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield (
        make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    )
    admin = await asyncpg.connect(_postgres_admin_url())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()

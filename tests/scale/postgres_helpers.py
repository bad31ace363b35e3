"""Fresh PostgreSQL databases for the scale-out tests (several per test, unlike the `database_url` fixture)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL


def require_postgres() -> None:
    if not POSTGRES_URL:
        pytest.skip("DVC_TEST_POSTGRES_URL is not set")


@asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """A new, empty database (dropped afterwards), as an asyncpg SQLAlchemy URL."""
    admin_url = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"dvc_scale_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield (
            make_url(POSTGRES_URL)
            .set(drivername="postgresql+asyncpg", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

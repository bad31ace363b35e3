"""deploy/postgres/init-roles.sh against a real PostgreSQL (DVC_TEST_POSTGRES_URL), under a prefix of its own:
each service's role owns its database and cannot connect to another's; running it again changes nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL, make_url

from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy/postgres/init-roles.sh"
SERVICES = ("indicators", "tasks", "notifier")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="DVC_TEST_POSTGRES_URL is not set"),
    pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed"),
]


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    import asyncpg

    chosen = f"dvct{uuid.uuid4().hex[:8]}_"
    yield chosen
    admin = await asyncpg.connect(_url().set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        for service in SERVICES:
            await admin.execute(f'DROP DATABASE IF EXISTS "{chosen}{service}" WITH (FORCE)')
            await admin.execute(f'DROP ROLE IF EXISTS "{chosen}{service}"')
    finally:
        await admin.close()


def _url() -> URL:
    return make_url(POSTGRES_URL)


def _run_script(prefix: str) -> subprocess.CompletedProcess[str]:
    url = _url()
    env = {
        **os.environ,
        "PGHOST": url.host or "127.0.0.1",
        "PGPORT": str(url.port or 5432),
        "PGPASSWORD": url.password or "",
        "POSTGRES_USER": url.username or "postgres",
        "DVC_DB_NAME_PREFIX": prefix,
        **{f"DVC_{service.upper()}_DB_PASSWORD": f"pw-{service}-'quoted\"" for service in SERVICES},
    }
    return subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False)


async def test_each_service_role_owns_its_database_and_no_other_when_the_init_script_ran(prefix: str) -> None:
    import asyncpg

    first, second = _run_script(prefix), _run_script(prefix)
    url = _url()

    def connect(role: str, database: str) -> Any:
        return asyncpg.connect(
            host=url.host,
            port=url.port or 5432,
            user=role,
            password=f"pw-{role.removeprefix(prefix)}-'quoted\"",
            database=database,
        )

    notifier = await connect(f"{prefix}notifier", f"{prefix}notifier")
    try:
        await notifier.execute("CREATE TABLE notifier_probe (x int)")
        owner = await notifier.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = 'notifier_probe'")
    finally:
        await notifier.close()
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        await connect(f"{prefix}notifier", f"{prefix}tasks")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert owner == f"{prefix}notifier"

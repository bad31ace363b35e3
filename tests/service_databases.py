"""A new PostgreSQL database per service for the tests that start the services as processes (e2e, faults)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL, _postgres_admin_url

DB_SERVICES = ("indicators", "tasks", "notifier")


async def _databases(create: bool, names: list[str]) -> None:
    import asyncpg

    admin = await asyncpg.connect(_postgres_admin_url())
    try:
        for name in names:
            statement = f'CREATE DATABASE "{name}"' if create else f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
            await admin.execute(statement)
    finally:
        await admin.close()


def create_service_databases(prefix: str) -> tuple[dict[str, str], list[str]]:
    """(URL by service, database names): `<prefix>_<service>_<random>` on DVC_TEST_POSTGRES_URL's server."""
    suffix = uuid.uuid4().hex[:8]
    names = [f"{prefix}_{name}_{suffix}" for name in DB_SERVICES]
    asyncio.run(_databases(True, names))
    base = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg")
    urls = {
        name: base.set(database=db).render_as_string(hide_password=False)
        for name, db in zip(DB_SERVICES, names, strict=True)
    }
    return urls, names


def drop_service_databases(names: list[str]) -> None:
    """Drop the databases `create_service_databases` made (only those)."""
    if names:
        asyncio.run(_databases(False, names))

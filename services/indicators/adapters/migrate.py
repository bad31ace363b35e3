"""Run the service's Alembic migrations at start-up (every head: the early-warning branch included)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from services.runtime.migrations import alembic_config, lock_migrations

SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "alembic_version_indicators"


async def upgrade(engine: AsyncEngine) -> None:
    config = alembic_config(SCRIPT_LOCATION, VERSION_TABLE)

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")

    async with engine.begin() as connection:
        await lock_migrations(connection, VERSION_TABLE)
        await connection.run_sync(_upgrade)

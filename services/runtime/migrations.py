"""Alembic, run programmatically on a service's own connection.

Each service keeps `migrations/` (env.py calls `run_env(metadata, version_table)`); the version table is
per service because services may share one PostgreSQL database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def alembic_config(script_location: Path, version_table: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["version_table"] = version_table
    return config


async def lock_migrations(connection: AsyncConnection, version_table: str) -> None:
    """Replicas starting together migrate one at a time (PostgreSQL DDL is transactional: the next one waits for
    the commit, then finds the schema at head); SQLite serialises writers itself."""
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:table))"), {"table": version_table})


async def upgrade_to_head(engine: AsyncEngine, script_location: Path, version_table: str) -> None:
    config = alembic_config(script_location, version_table)

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await lock_migrations(connection, version_table)
        await connection.run_sync(_upgrade)


def run_env(metadata: MetaData) -> None:
    """Body of every service's `migrations/env.py`."""
    connection: Any = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through services.runtime.migrations.upgrade_to_head")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=context.config.attributes["version_table"],
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()

"""Run the notifier's Alembic migrations (version table `alembic_version_notifier`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from services.runtime.migrations import upgrade_to_head

SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "alembic_version_notifier"


async def upgrade(engine: AsyncEngine) -> None:
    await upgrade_to_head(engine, SCRIPT_LOCATION, VERSION_TABLE)

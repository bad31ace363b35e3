"""Alembic environment of the indicators service (run through `adapters.migrate.upgrade`)."""

from services.indicators.adapters.tables import METADATA
from services.runtime.migrations import run_env

run_env(METADATA)

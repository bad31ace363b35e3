"""Alembic environment of the tasks service (run through `adapters.migrate.upgrade`)."""

from services.runtime.migrations import run_env
from services.tasks.adapters.tables import METADATA

run_env(METADATA)

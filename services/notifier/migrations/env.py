"""Alembic environment of the notifier (run through `adapters.migrate.upgrade`)."""

from services.notifier.adapters.tables import METADATA
from services.runtime.migrations import run_env

run_env(METADATA)

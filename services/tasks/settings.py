"""Settings of the tasks service (`DVC_TASKS_*`, shared `DVC_NATS_URL`, `DVC_TIMEZONE`, `DVC_VAR_DIR`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings
from services.tasks.adapters.plan_file import DEFAULT_PLAN_FILE


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DVC_TASKS_", extra="ignore")

    port: int = 8083
    plan_file: Path | None = Field(
        default=DEFAULT_PLAN_FILE, description="Loaded at start-up when no plan is loaded yet (empty: none)"
    )
    default_plan: str | None = Field(default=None, description="Plan used when a request names none")
    keys_file: Path | None = Field(default=None, description="Hashed keys (default: $DVC_VAR_DIR/tasks-keys.json)")
    keys: str = Field(default="", description="More hashed keys, as a JSON list of {name, sha256, unit|admin}")
    consumer: str = Field(default="tasks-snapshots", description="Durable consumer on dvc.indicators.snapshot")
    snapshot_replay: Literal["last", "all", "new"] = Field(
        default="last", description="Where a new consumer starts: the last snapshot, all kept, or new ones only"
    )
    batch_size: int = Field(default=100, ge=1, le=5000)
    batch_timeout: float = Field(default=1.0, gt=0)
    ack_wait_seconds: float = Field(default=60.0, gt=0)
    due_soon_days: int = Field(default=14, ge=0, le=365, description="Raise due_soon this many days before")
    deadline_check_seconds: float = Field(default=300.0, gt=0, description="How often deadlines are checked")
    processed_retention_days: int = Field(default=7, ge=1, description="Keep processed-message ids this long")

    def resolved_database_url(self) -> str:
        return self.database_url or self.sqlite_default("tasks")

    def resolved_keys_file(self) -> Path:
        return self.keys_file or self.var_dir / "tasks-keys.json"

    def resolved_plan_file(self) -> Path | None:
        if self.plan_file is None or str(self.plan_file) in ("", "."):
            return None
        return self.plan_file

"""Settings of the indicators service (`DVC_INDICATORS_*`, shared `DVC_NATS_URL`, `DVC_TIMEZONE`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict
from sqlalchemy.engine import make_url

from services.contracts.partitioning import PARTITION_COUNTS
from services.indicators.domain.calendar import DEFAULT_WORKING_HOURS
from services.runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DVC_INDICATORS_", extra="ignore")

    port: int = 8082
    consumer: str = Field(default="indicators", description="Durable consumer name on DVC_EVENTS")
    batch_size: int = Field(default=2000, ge=1, le=5000, description="Events per pull and per transaction")
    idle_poll_seconds: float = Field(default=5.0, gt=0, description="Longest wait of one pull when no event comes")
    ack_wait_seconds: float = Field(default=60.0, gt=0)
    max_ack_pending: int = Field(default=20_000, ge=1)
    partitions: int = Field(default=1, description="DVC_EVENTS consumers, by dossier: 1, 2, 4, 8 (PostgreSQL)")
    owned_partitions: list[int] = Field(default_factory=list, description="Partitions this replica runs (all: [])")
    working_hours: str = DEFAULT_WORKING_HOURS
    calendar_overrides: Path | None = Field(default=None, description="YAML override file (default: packaged)")
    calendar_country: str = "VN"
    leaderboard_min_volume: int = Field(default=5, ge=1, description="Rows handling fewer dossiers are not ranked")
    ontime_target: float | None = Field(default=None, ge=0, le=1, description="Optional ONTIME target (no plan one)")
    sat_target: float | None = Field(default=None, ge=0, le=1, description="Optional SAT target (no plan one)")
    snapshot_interval_seconds: float = Field(default=60.0, gt=0, description="Snapshot at least this often")
    snapshot_min_interval_seconds: float = Field(default=1.0, ge=0, description="Snapshot at most this often")
    metrics_max_agencies: int = Field(default=100, ge=1, description="Agency label values before 'other'")
    state_cache_size: int = Field(default=50_000, ge=0, description="Dossier states kept in memory (0: none)")
    rebuild_state_cache_size: int = Field(
        default=50_000, ge=0, description="Dossier states a rebuild keeps in memory (~1 KB each)"
    )
    # early warning (indicators-B, docs/indicators.md "Early warning")
    warning_interval_seconds: float = Field(default=30.0, gt=0, description="Early-warning sweep interval")
    warning_method: Literal["rule", "model"] = Field(
        default="rule", description="At-risk alerts by the fixed rule or by the survival model (see the backtest)"
    )
    warning_rule_cut: float = Field(default=0.95, gt=0, le=1, description="Share of allotted time that alerts (rule)")
    warning_threshold: float = Field(default=0.85, gt=0, le=1, description="Risk that raises an at-risk alert (model)")
    warning_min_samples: int = Field(default=30, ge=1, description="Finished dossiers a risk curve needs")
    warning_training_days: float = Field(default=365.0, gt=0, description="Model learns from dossiers this recent")
    warning_refit_seconds: float = Field(default=300.0, ge=0, description="Refit the risk model at most this often")

    @model_validator(mode="after")
    def _runnable_partitions(self) -> Settings:
        check_partitions(self.partitions, self.owned_partitions, self.resolved_database_url())
        return self

    def resolved_database_url(self) -> str:
        return self.database_url or self.sqlite_default("indicators")


def check_partitions(partitions: int, owned: Sequence[int], database_url: str) -> None:
    """Refuse a plan that cannot be run (raises ValueError naming the setting)."""
    if partitions not in PARTITION_COUNTS:
        allowed = ", ".join(map(str, PARTITION_COUNTS))
        raise ValueError(
            f"DVC_INDICATORS_PARTITIONS must be one of {allowed} (the NATS users allow these), not {partitions}"
        )
    outside = sorted(index for index in owned if not 0 <= index < partitions)
    if outside:
        raise ValueError(f"DVC_INDICATORS_OWNED_PARTITIONS {outside} outside 0-{partitions - 1}")
    if partitions > 1 and make_url(database_url).get_backend_name() != "postgresql":
        raise ValueError(
            f"DVC_INDICATORS_PARTITIONS={partitions} needs PostgreSQL: SQLite has a single writer, so the "
            "indicators run one consumer on it (DVC_INDICATORS_PARTITIONS=1)"
        )

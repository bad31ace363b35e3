from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import AwareDatetime, Field
from pydantic_settings import SettingsConfigDict

from services.contracts.subjects import INGEST_REQUEST
from services.contracts.timebounds import EARLIEST_EVENT_TIME
from services.ingest.domain.keys import KeySpec
from services.ingest.domain.time_rules import TimeRules
from services.runtime.nats.store_watch import DEFAULT_STORE_LIMIT_BYTES
from services.runtime.settings import ServiceSettings

MIB = 1024 * 1024


class Settings(ServiceSettings):
    """`DVC_INGEST_*` settings (shared ones: `DVC_NATS_URL`, `DVC_VAR_DIR`)."""

    model_config = SettingsConfigDict(env_prefix="DVC_INGEST_", extra="ignore")

    port: int = 8081
    keys_file: Path | None = Field(default=None, description="Hashed keys (default: $DVC_VAR_DIR/ingest-keys.json)")
    keys: list[KeySpec] = Field(default_factory=list, description="Extra hashed keys, a JSON array (DVC_INGEST_KEYS)")
    keys_reload_seconds: float = Field(default=1.0, ge=0, description="How often the keys file is checked")
    known_sources: list[str] = Field(
        default_factory=lambda: ["urn:dvc:*", "urn:pay:*"],
        description="Sources a new key may be bound to (exact, or prefixes ending in *); `keys add` refuses others",
    )
    max_body_bytes: int = Field(default=5 * MIB, gt=0)
    rate_limit_per_second: float = Field(default=100.0, gt=0, description="Requests per second per key")
    rate_limit_burst: int = Field(default=200, ge=1, description="Requests a key may send at once")
    max_batch_events: int = Field(default=1000, gt=0)
    publish_timeout: float = Field(default=5.0, gt=0, description="Seconds to wait for JetStream to ack a batch")
    retry_after_seconds: int = Field(default=2, ge=1, description="`Retry-After` of a 503 answer")
    earliest_time: AwareDatetime = Field(
        default=EARLIEST_EVENT_TIME, description="No event time or date in `data` before this instant"
    )
    future_tolerance_seconds: float = Field(
        default=300.0, ge=0, le=86_400, description="How far after the ingest's clock an event time may lie"
    )
    due_horizon_years: int = Field(
        default=10, ge=1, le=50, description="How far after the event's time a due date may lie"
    )
    dvcqg_mapping_file: Path | None = Field(
        default=None,
        description="Mapping tables of the national portal's payloads (default: $DVC_VAR_DIR/dvcqg-mapping.json)",
    )
    dvcqg_state_file: Path | None = Field(
        default=None, description="What is remembered of the portal's dossiers (default: $DVC_VAR_DIR/dvcqg.sqlite)"
    )
    dvcqg_default_source: str = Field(
        default="urn:dvc:lam-thao:dvcqg",
        min_length=1,
        max_length=512,
        description="Source of portal payloads sent with a key bound only to prefixes (that cover it)",
    )
    dvcqg_max_records: int = Field(default=1000, gt=0, description="Records in one portal payload")
    jetstream_store_limit_bytes: int = Field(
        default=DEFAULT_STORE_LIMIT_BYTES,
        gt=0,
        description="The NATS servers' `max_file_store`, for dvc_jetstream_store_limit_bytes when the account has none",
    )
    request_subject: str = INGEST_REQUEST
    request_queue: str = "dvc-ingest"

    @property
    def time_rules(self) -> TimeRules:
        return TimeRules(self.earliest_time, timedelta(seconds=self.future_tolerance_seconds), self.due_horizon_years)

    @property
    def keys_path(self) -> Path:
        return self.keys_file or self.var_dir / "ingest-keys.json"

    @property
    def dvcqg_mapping_path(self) -> Path:
        return self.dvcqg_mapping_file or self.var_dir / "dvcqg-mapping.json"

    @property
    def dvcqg_state_path(self) -> Path:
        return self.dvcqg_state_file or self.var_dir / "dvcqg.sqlite"

"""Settings of the notifier (`DVC_NOTIFIER_*`, shared `DVC_NATS_URL`, `DVC_TIMEZONE`, `DVC_VAR_DIR`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.notifier.domain.operators import KeySpec
from services.runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DVC_NOTIFIER_", extra="ignore")

    port: int = 8084
    keys_file: Path | None = Field(
        default=None, description="Hashed operator keys (default: $DVC_VAR_DIR/notifier-keys.json)"
    )
    keys: list[KeySpec] = Field(
        default_factory=list, description="Extra hashed operator keys, a JSON array of {name, sha256}"
    )
    keys_reload_seconds: float = Field(default=1.0, ge=0, description="How often the keys file is checked")
    events_consumer: str = Field(default="notifier", description="Durable consumer on DVC_EVENTS (dossier.*)")
    alerts_consumer: str = Field(default="notifier-alerts", description="Durable consumer on DVC_ALERTS")
    start_from: Literal["all", "new"] = Field(
        default="all", description="Where new consumers start: the whole stream (old events recorded as skipped)"
    )
    lookup_attempts_per_dossier: int = Field(
        default=10, ge=1, description="Citizen lookups (POST /v1/lookup) of one dossier code per window"
    )
    lookup_window_seconds: float = Field(default=900.0, gt=0, description="Window of lookup_attempts_per_dossier")
    batch_size: int = Field(default=500, ge=1, le=2000)  # fills only when behind; a fuller batch costs less per event
    batch_timeout: float = Field(default=0.5, gt=0)
    ack_wait_seconds: float = Field(default=60.0, gt=0)
    max_ack_pending: int = Field(default=5000, ge=1)

    providers: str = Field(default="outbox", description="Provider names, a YAML list or @file (see providers)")
    sender: str | None = Field(default=None, description="Brandname registered with the carriers")
    encryption_key: SecretStr | None = Field(
        default=None,
        description="Fernet keys for phones and names, comma-separated, newest first: the first encrypts, all decrypt",
    )
    encryption_key_file: Path | None = Field(
        default=None, description="File with those keys, one a line (default: $DVC_VAR_DIR/notifier-encryption.key)"
    )
    hash_key: SecretStr | None = Field(
        default=None, description="Key of the phone lookup hash (opt-outs, caps), separate from the encryption keys"
    )
    hash_key_file: Path | None = Field(
        default=None, description="File with the hash key (default: $DVC_VAR_DIR/notifier-hash.key)"
    )
    templates_file: Path | None = Field(default=None, description="Templates YAML (default: packaged)")
    centre_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=80,
        description="Name citizen SMS start with (the templates' `centre`; packaged: Trung tâm Phục vụ hành chính "
        "công xã Lâm Thao); the sender name (brandname) is each provider's",
    )
    triggers_file: Path | None = Field(default=None, description="Event kind -> templates YAML (default: packaged)")
    staff_directory: Path | None = Field(default=None, description="YAML/CSV: officer or unit code -> phone")

    quiet_hours: str = Field(default="21:00-07:00", description="Local hours when non-urgent messages wait")
    max_event_age_hours: float = Field(default=24.0, gt=0, description="Older events never send (replay, import)")
    citizen_daily_cap: int = Field(default=4, ge=1, description="Messages per citizen phone per local day")
    officer_daily_cap: int = Field(default=20, ge=1, description="Messages per officer phone per local day")
    dossier_daily_cap: int = Field(default=3, ge=1, description="Citizen messages per dossier per local day")
    contact_wait_hours: float = Field(
        default=24.0, gt=0, description="How long a citizen message waits for its dossier's submitted/accepted"
    )
    duplicate_window_hours: float = Field(default=24.0, ge=0, description="Identical text to one phone: skipped")

    dispatch_interval_seconds: float = Field(default=1.0, gt=0)
    dispatch_batch_size: int = Field(default=100, ge=1, le=1000)
    send_concurrency: int = Field(default=10, ge=1, le=200)
    max_attempts: int = Field(default=8, ge=1, description="Provider attempts before technical-failure")
    retry_base_seconds: float = Field(default=30.0, gt=0)
    retry_cap_seconds: float = Field(default=1800.0, gt=0)
    receipt_timeout_hours: float = Field(default=72.0, gt=0, description="sent without receipt -> failed")
    sending_timeout_seconds: float = Field(
        default=900.0, gt=0, description="sending with no provider answer recorded (a crash) -> unknown"
    )
    unknown_review_hours: float = Field(
        default=24.0, gt=0, description="unknown outcome without a settling receipt -> listed for the operator"
    )
    sweep_interval_seconds: float = Field(default=30.0, gt=0)
    retention_days: int = Field(default=90, ge=1, description="Phones, names and texts older than this are purged")
    purge_interval_hours: float = Field(default=1.0, gt=0, description="How often the service runs the purge")

    def resolved_database_url(self) -> str:
        return self.database_url or self.sqlite_default("notifier")

    def resolved_keys_file(self) -> Path:
        return self.keys_file or self.var_dir / "notifier-keys.json"

    def resolved_encryption_key_file(self) -> Path:
        return self.encryption_key_file or self.var_dir / "notifier-encryption.key"

    def resolved_hash_key_file(self) -> Path:
        return self.hash_key_file or self.var_dir / "notifier-hash.key"

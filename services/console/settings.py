"""Settings of the console (`DVC_CONSOLE_*`, shared `DVC_TIMEZONE`, `DVC_VAR_DIR`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.runtime.nats.auth import read_secret_file
from services.runtime.settings import ServiceSettings


class MissingLookupKey(ValueError):
    """The citizen lookup needs a notifier operator key: without one the console refuses to start."""


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DVC_CONSOLE_", extra="ignore")

    port: int = 8085
    indicators_url: str = Field(default="http://127.0.0.1:8082", description="The indicators API (server side)")
    tasks_url: str = Field(default="http://127.0.0.1:8083", description="The tasks API (server side)")
    notifier_url: str = Field(default="http://127.0.0.1:8084", description="The notifier API (server side)")
    ingest_url: str = Field(default="http://127.0.0.1:8081", description="The ingest API (for its docs link only)")
    docs_base_url: str = Field(
        default="",
        description="Host part of the API docs links shown in the browser (default: the URL of each API above)",
    )
    notifier_key: SecretStr | None = Field(default=None, description="Notifier operator key for POST /v1/lookup")
    notifier_key_file: Path | None = Field(default=None, description="File holding notifier_key (a Docker secret)")
    session_hours: float = Field(default=8.0, gt=0, description="How long an operator's sign-in lasts")
    refresh_seconds: float = Field(default=5.0, ge=1, description="How often the console page polls the APIs")
    upstream_timeout_seconds: float = Field(default=10.0, gt=0)
    lookup_attempts_per_client: int = Field(default=20, ge=1, description="Lookups per client address per window")
    lookup_attempts_per_dossier: int = Field(default=10, ge=1, description="Lookups per dossier code per window")
    lookup_window_seconds: float = Field(default=900.0, gt=0)
    secure_cookies: bool = Field(default=False, description="Set the Secure flag (behind HTTPS)")

    def lookup_key(self) -> str:
        key = (self.notifier_key.get_secret_value() if self.notifier_key else "") or read_secret_file(
            self.notifier_key_file
        )
        if not key:
            raise MissingLookupKey(
                "the citizen lookup needs a notifier operator key: set DVC_CONSOLE_NOTIFIER_KEY or "
                "DVC_CONSOLE_NOTIFIER_KEY_FILE (`dvc-pulse notifier keys add console`)"
            )
        return key

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Settings every service shares; each service subclasses it with its own `env_prefix`.

    Shared names (`DVC_NATS_URL`, `DVC_TIMEZONE`, `DVC_VAR_DIR`) are read without the service prefix.
    """

    model_config = SettingsConfigDict(env_prefix="DVC_", extra="ignore")

    nats_url: str = Field(default="nats://127.0.0.1:4222", validation_alias=AliasChoices("DVC_NATS_URL", "nats_url"))
    timezone: str = Field(default="Asia/Ho_Chi_Minh", validation_alias=AliasChoices("DVC_TIMEZONE", "timezone"))
    var_dir: Path = Field(default=Path("var"), validation_alias=AliasChoices("DVC_VAR_DIR", "var_dir"))
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = ""
    log_level: str = "WARNING"
    max_deliver: int = Field(default=8, ge=2, description="Deliveries before a message goes to DVC_DLQ")
    unready_after_failed_batches: int = Field(
        default=5, ge=1, description="Batches in a row one consumer fails before /readyz answers 503"
    )
    consumer_info_seconds: float = Field(
        default=15.0, gt=0, description="How often the consumers' pending counts are read for /metrics"
    )

    @property
    def nats_servers(self) -> list[str]:
        return [server.strip() for server in self.nats_url.split(",") if server.strip()]

    def sqlite_default(self, service: str) -> str:
        return f"sqlite+aiosqlite:///{self.var_dir / f'{service}.db'}"

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
    max_body_bytes: int = Field(default=1024 * 1024, gt=0, description="Largest HTTP request body (413 beyond)")
    rate_limit_per_second: float = Field(default=10.0, gt=0, description="Write requests per second per key")
    rate_limit_burst: int = Field(default=50, ge=1, description="Write requests a key may send at once")

    @property
    def nats_servers(self) -> list[str]:
        return [server.strip() for server in self.nats_url.split(",") if server.strip()]

    def sqlite_default(self, service: str) -> str:
        return f"sqlite+aiosqlite:///{self.var_dir / f'{service}.db'}"

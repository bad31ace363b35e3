from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.contracts.nats_users import ADMIN
from services.runtime.nats.auth import NatsAuth, cli_nats_auth, read_secret_file


class ServiceSettings(BaseSettings):
    """Settings every service shares; each service subclasses it with its own `env_prefix`.

    Shared names (`DVC_NATS_URL`, `DVC_NATS_USER`..., `DVC_TIMEZONE`, `DVC_VAR_DIR`) are read without the
    service prefix.
    """

    model_config = SettingsConfigDict(env_prefix="DVC_", extra="ignore")

    nats_url: str = Field(default="nats://127.0.0.1:4222", validation_alias=AliasChoices("DVC_NATS_URL", "nats_url"))
    nats_user: str = Field(
        default="",
        validation_alias=AliasChoices("DVC_NATS_USER", "nats_user"),
        description="NATS user (none: anonymous)",
    )
    nats_password: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("DVC_NATS_PASSWORD", "nats_password")
    )
    nats_password_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("DVC_NATS_PASSWORD_FILE", "nats_password_file"),
        description="File holding the NATS password (a Docker secret); used when DVC_NATS_PASSWORD is empty",
    )
    nats_ca_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("DVC_NATS_CA_FILE", "nats_ca_file"),
        description="CA certificate that signed the NATS servers' certificates (turns TLS on)",
    )
    nats_cert_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("DVC_NATS_CERT_FILE", "nats_cert_file"), description="Client cert"
    )
    nats_key_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("DVC_NATS_KEY_FILE", "nats_key_file"), description="Client key"
    )
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

    def nats_auth(self) -> NatsAuth:
        """The configured NATS credentials; a user without a password raises `MissingNatsSecret`."""
        password = self.nats_password.get_secret_value() or read_secret_file(self.nats_password_file)
        return NatsAuth(self.nats_user, password, self.nats_ca_file, self.nats_cert_file, self.nats_key_file)

    def nats_connect_options(self) -> dict[str, Any]:
        """Keyword arguments for `create_broker` / `nats.connect`: user, password, inbox prefix, TLS."""
        return self.nats_auth().connect_options()

    def cli_nats_options(self, servers: list[str] | None = None, user: str = ADMIN) -> dict[str, Any]:
        """A CLI command's connect options: the configured user, else `user` of the embedded server of `make up`
        when the command targets it (passwords in `var/nats-secrets.json`), else anonymous."""
        return cli_nats_auth(self.nats_auth(), servers or self.nats_servers, self.var_dir, user).connect_options()

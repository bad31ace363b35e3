"""How a client authenticates to NATS: user and password (the permissions table's user), its inbox prefix, and
TLS when the server requires it. Services build it from their settings; CLI commands from the settings or, when
they target the embedded server of `make up`, from `var/nats-secrets.json` (`cli_nats_auth`)."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.contracts.nats_users import ADMIN, inbox_prefix
from services.runtime.nats.embedded_secrets import EmbeddedSecrets


class MissingNatsSecret(ValueError):
    """A NATS user is configured without its password: the client stops instead of connecting anonymously."""


@dataclass(frozen=True)
class NatsAuth:
    user: str = ""
    password: str = ""
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    def __post_init__(self) -> None:
        if self.user and not self.password:
            raise MissingNatsSecret(
                f"NATS user {self.user!r} has no password: set DVC_NATS_PASSWORD or DVC_NATS_PASSWORD_FILE"
            )

    def tls_context(self) -> ssl.SSLContext | None:
        if self.ca_file is None and self.cert_file is None:
            return None
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        if self.cert_file is not None:
            context.load_cert_chain(str(self.cert_file), str(self.key_file) if self.key_file else None)
        return context

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for `nats.connect` and `NatsBroker` (nothing for an anonymous plain client)."""
        options: dict[str, Any] = {}
        if self.user:
            options |= {"user": self.user, "password": self.password, "inbox_prefix": inbox_prefix(self.user)}
        context = self.tls_context()
        if context is not None:
            options["tls"] = context
        return options


def read_secret_file(path: Path | None) -> str:
    return path.read_text(encoding="utf-8").strip() if path is not None else ""


def cli_nats_auth(configured: NatsAuth, servers: Sequence[str], var_dir: Path, user: str = ADMIN) -> NatsAuth:
    """What a CLI command connects with: the configured user (`DVC_NATS_USER`...) when there is one, else `user`
    of the embedded server's secrets when `servers` is the embedded server of `var_dir`, else anonymous."""
    if configured.user:
        return configured
    embedded = EmbeddedSecrets.load(var_dir)
    if embedded is not None and embedded.serves(servers):
        return NatsAuth(user, embedded.passwords[user], configured.ca_file, configured.cert_file, configured.key_file)
    return configured

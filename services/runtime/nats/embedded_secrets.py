"""The secrets of the embedded NATS server (`make up`, the end-to-end tests): one random password per user of
`services.contracts.nats_users` and the JetStream encryption key, generated once into
`$DVC_VAR_DIR/nats-secrets.json` (mode 0600) and kept, so that a restart reads its encrypted store again.

Losing the file makes the encrypted store `var/nats` unreadable: keep it with the store (or delete both).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from services.contracts.nats_users import USERS
from services.runtime.nats.embedded import EmbeddedNats
from services.runtime.nats.server_config import new_secret, render_embedded

SECRETS_FILE = "nats-secrets.json"
CONFIG_FILE = "nats.conf"
KEY_CHECK_FILE = "dvc-key-check"  # in the store directory, beside nats-server's `jetstream/`


class LostNatsKey(RuntimeError):
    """The store is encrypted but the file with its key is gone: generating a new key would not read it."""


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable and writable by its owner only (created 0600, never wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


@dataclass
class EmbeddedSecrets:
    passwords: dict[str, str]
    jetstream_key: str
    url: str = ""  # the embedded server these secrets belong to (CLI commands use them only there)
    path: Path = field(default=Path(SECRETS_FILE), compare=False)

    @classmethod
    def load_or_create(cls, var_dir: Path) -> EmbeddedSecrets:
        """The secrets of `var_dir`; users added to the table since get a password, nothing else changes."""
        path = var_dir / SECRETS_FILE
        if not path.exists() and any((var_dir / "nats").rglob("meta.key")):  # nats-server's per-stream key file
            raise LostNatsKey(
                f"{var_dir / 'nats'} is encrypted but {path} (its key) is missing: restore that file, "
                f"or delete {var_dir / 'nats'} to start with empty streams"
            )
        document = orjson.loads(path.read_bytes()) if path.exists() else {}
        passwords = {str(name): str(value) for name, value in document.get("passwords", {}).items()}
        missing = [user.name for user in USERS if user.name not in passwords]
        passwords |= {name: new_secret() for name in missing}
        loaded = cls(passwords, str(document.get("jetstream_key") or new_secret(48)), path=path)
        loaded.url = str(document.get("url", ""))
        if missing or not document.get("jetstream_key"):
            loaded.save()
        return loaded

    @classmethod
    def load(cls, var_dir: Path) -> EmbeddedSecrets | None:
        path = var_dir / SECRETS_FILE
        return cls.load_or_create(var_dir) if path.exists() else None

    def save(self) -> None:
        document = {"url": self.url, "passwords": self.passwords, "jetstream_key": self.jetstream_key}
        write_private(self.path, orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")

    def check_store_key(self, store_dir: Path) -> None:
        """Refuse a key the store was not encrypted with. nats-server started with another key cannot load the
        streams, and `streams apply` would then re-create them, overwriting their key files (the data would be
        lost for good); so the store remembers a fingerprint of its key."""
        fingerprint = hashlib.sha256(f"dvc-pulse nats store:{self.jetstream_key}".encode()).hexdigest()
        check = store_dir / KEY_CHECK_FILE
        if check.exists() and check.read_text(encoding="utf-8").strip() != fingerprint:
            raise LostNatsKey(
                f"{store_dir} was encrypted with another key than the one in {self.path}: restore the "
                f"{SECRETS_FILE} that belongs to it, or delete {store_dir} to start with empty streams"
            )
        write_private(check, fingerprint + "\n")

    def write_server_config(self, config: Path, port: int, store_dir: Path) -> None:
        """The embedded server's config (0600: it holds the passwords and the key); remembers its URL."""
        self.check_store_key(store_dir)
        self.url = f"nats://127.0.0.1:{port}"
        self.save()
        write_private(config, render_embedded(port, store_dir.resolve(), self.passwords, self.jetstream_key))

    def environment(self, user: str) -> dict[str, str]:
        """`DVC_NATS_USER` and `DVC_NATS_PASSWORD` for a child process that connects as `user`."""
        return {"DVC_NATS_USER": user, "DVC_NATS_PASSWORD": self.passwords[user]}

    def serves(self, servers: Sequence[str]) -> bool:
        """True when one of `servers` is this embedded server (same host and port)."""
        if not self.url:
            return False
        own = urlsplit(self.url)
        for server in servers:
            parsed = urlsplit(server if "://" in server else f"nats://{server}")
            if parsed.port == own.port and parsed.hostname in {own.hostname, "localhost"}:
                return True
        return False


def secured_nats(
    port: int, var_dir: Path, log_file: Path | None = None, *, supervised: bool = False
) -> tuple[EmbeddedNats, EmbeddedSecrets]:
    """The embedded server of `var_dir` (store `var_dir/nats`) with the users of the permissions table and
    JetStream encrypted at rest; a store written before encryption was turned on is encrypted by nats-server
    when it starts (docs/security.md)."""
    secrets_ = EmbeddedSecrets.load_or_create(var_dir)
    config = var_dir / CONFIG_FILE
    store = var_dir / "nats"
    secrets_.write_server_config(config, port, store)
    return EmbeddedNats(port, store, log_file, supervised=supervised, config_file=config), secrets_

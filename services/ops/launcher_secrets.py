"""Secrets `make up` generates under var/ (mode 0600) and keeps across restarts: the notifier's encryption and
phone hash keys and the outbox provider's callback token. The services themselves never generate a secret:
without one they refuse to start."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from pathlib import Path

OUTBOX_TOKEN_FILE = "notifier-outbox-token"  # read by the notifier's outbox provider (callback_auth.py)


def write_secret_once(path: Path, new_value: Callable[[], str]) -> bool:
    """`new_value()` into `path` (mode 0600) unless it already holds a value; the mode is tightened either way.
    Returns whether it was created."""
    created = not path.exists() or not path.read_text(encoding="ascii").strip()
    if created:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(new_value() + "\n")
    path.chmod(0o600)
    return created


def fernet_key() -> str:
    """32 random bytes, url-safe base64 (a Fernet key)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def ensure_notifier_secrets(var_dir: Path) -> bool:
    """The notifier's encryption key and phone hash key, generated when absent. True when the hash key is new
    beside an older encryption key: an installation from before the separate hash key, which `rotate-key`
    migrates."""
    had_encryption_key = (var_dir / "notifier-encryption.key").exists()
    write_secret_once(var_dir / "notifier-encryption.key", fernet_key)
    created_hash_key = write_secret_once(var_dir / "notifier-hash.key", fernet_key)
    return had_encryption_key and created_hash_key


def ensure_outbox_callback_token(var_dir: Path) -> Path:
    """The token the embedded outbox provider's receipt and inbound callbacks must present."""
    path = var_dir / OUTBOX_TOKEN_FILE
    write_secret_once(path, lambda: secrets.token_urlsafe(32))
    return path

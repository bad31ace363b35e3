"""Phone numbers and names at rest: Fernet (AES-128-CBC + HMAC-SHA256) with the key from
`DVC_NOTIFIER_ENCRYPTION_KEY`, plus a keyed hash (HMAC-SHA256, key derived with HKDF) to find a number
without decrypting every row (opt-outs, daily caps)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

logger = logging.getLogger("dvc_pulse.notifier")


class InvalidKey(ValueError):
    """The configured key is not a Fernet key (32 url-safe base64 bytes)."""


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


class PhoneVault:
    def __init__(self, key: str) -> None:
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
            self._fernet = Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as error:
            raise InvalidKey(
                "DVC_NOTIFIER_ENCRYPTION_KEY must be a Fernet key (generate one with `dvc-pulse notifier new-key`)"
            ) from error
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"dvc-pulse notifier phone hash")
        self._hash_key = hkdf.derive(raw)

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode("utf-8"))

    def decrypt(self, token: bytes | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken:
            logger.warning("a stored phone number cannot be decrypted with the configured key")
            return None

    def hash(self, e164: str) -> str:
        return hmac.new(self._hash_key, e164.encode("ascii"), hashlib.sha256).hexdigest()


def load_or_create_key(path: Path) -> str:
    """The local key of `make up`: read from `path`, or generated there (mode 0600) on first start."""
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = new_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(key + "\n")
    logger.warning(
        "no DVC_NOTIFIER_ENCRYPTION_KEY: generated a local key in %s (keep it: it decrypts the phones)", path
    )
    return key

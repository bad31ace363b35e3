"""Phone numbers and names at rest: Fernet (AES-128-CBC + HMAC-SHA256) with several keys (the first
encrypts, every one decrypts, so keys can be rotated), plus a keyed hash (HMAC-SHA256) under a separate
secret to find a number without decrypting every row (opt-outs, daily caps). The hash key being separate, a
new encryption key leaves every hash, hence every opt-out, valid."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

logger = logging.getLogger("dvc_pulse.notifier")
MIN_HASH_KEY_BYTES = 32


class InvalidKey(ValueError):
    """A configured key is not usable (not a Fernet key, or a hash key shorter than 32 bytes)."""


def new_key() -> str:
    """32 random bytes, url-safe base64: a Fernet key, also good as a hash key."""
    return Fernet.generate_key().decode("ascii")


def split_keys(text: str) -> list[str]:
    """`new,old` or one key per line (a key file): the keys in order, blanks and `#` comments dropped."""
    keys: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        keys += [part.strip() for part in line.split(",") if part.strip()]
    return keys


def _fernet(key: str, position: int) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError, binascii.Error):
        raise InvalidKey(
            f"encryption key #{position + 1} is not a Fernet key (generate one with `dvc-pulse notifier new-key`)"
        ) from None


def _hash_key_bytes(key: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError, binascii.Error):
        raw = b""
    if len(raw) < MIN_HASH_KEY_BYTES:
        raise InvalidKey(
            "the hash key must be at least 32 bytes in url-safe base64 (generate one with `dvc-pulse notifier new-key`)"
        )
    return raw


def legacy_hash_key(encryption_key: str) -> bytes:
    """The hash key of versions before the separate hash key: derived from the encryption key (HKDF), which
    made a key rotation void every opt-out. Only `rotate-key` uses it, to find and re-hash old rows."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"dvc-pulse notifier phone hash")
    return hkdf.derive(base64.urlsafe_b64decode(encryption_key.encode("ascii")))


def keyed_hash(key: bytes, e164: str) -> str:
    return hmac.new(key, e164.encode("ascii"), hashlib.sha256).hexdigest()


class PhoneVault:
    """`encryption_keys` newest first: the first encrypts, all decrypt (tried in order)."""

    def __init__(self, encryption_keys: Sequence[str], hash_key: str) -> None:
        if not encryption_keys:
            raise InvalidKey("no encryption key")
        self.encryption_keys = tuple(encryption_keys)
        fernets = [_fernet(key, position) for position, key in enumerate(self.encryption_keys)]
        self._newest = fernets[0]
        self._all = MultiFernet(fernets)
        self._hash_key = _hash_key_bytes(hash_key)

    def encrypt(self, value: str) -> bytes:
        return self._newest.encrypt(value.encode("utf-8"))

    def decrypt(self, token: bytes | None) -> str | None:
        if token is None:
            return None
        try:
            return self._all.decrypt(bytes(token)).decode("utf-8")
        except InvalidToken:
            logger.warning("a stored phone number cannot be decrypted with the configured keys")
            return None

    def is_current(self, token: bytes) -> bool:
        """Whether `token` is already encrypted with the newest key (rotation skips it)."""
        try:
            self._newest.decrypt(bytes(token))
        except InvalidToken:
            return False
        return True

    def hash(self, e164: str) -> str:
        return keyed_hash(self._hash_key, e164)

    def legacy_hashes(self, e164: str) -> list[str]:
        """The hashes `e164` had when the hash key was derived from each configured encryption key."""
        return [keyed_hash(key, e164) for key in self._legacy_hash_keys]

    @cached_property
    def _legacy_hash_keys(self) -> list[bytes]:
        return [legacy_hash_key(key) for key in self.encryption_keys]

    def hash_key_fingerprint(self) -> str:
        """Identifies the hash key without revealing it: stored with the data, checked at start."""
        return hmac.new(self._hash_key, b"dvc-pulse notifier hash key fingerprint", hashlib.sha256).hexdigest()[:32]


def read_secret(value: str | None, file: Path | None) -> str | None:
    """A secret from its setting, else from its file (a docker secret, or `make up`'s var/ file); None if
    neither holds one. The service never creates a missing secret: it refuses to start."""
    if value and value.strip():
        return value.strip()
    if file is not None and file.is_file():
        text = file.read_text(encoding="ascii").strip()
        return text or None
    return None

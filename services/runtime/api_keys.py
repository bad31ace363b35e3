"""API keys shared by the services: only a key's SHA-256 is stored, in a JSON keys file (`{"keys": [...]}`)
written atomically (mode 0600) and re-read when it changes on disk, so adding, revoking or rotating a key needs
no restart.

Each service keeps its own key model (the rules of what a key may do, on services.contracts.keys.StoredKey); the
code here needs a `name`, a `sha256` and the optional `expires_at` and `revoked_at`. A service binds its model
once with `KeyFiles`. When a key was last used is kept apart (services.runtime.key_usage), never written per
request.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Generic, Protocol, Self, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from services.runtime.key_usage import KeyUsage

_default_logger = logging.getLogger("dvc_pulse.keys")


class KeySpecLike(Protocol):
    """What the shared code needs of a service's key model (a pydantic model)."""

    @property
    def name(self) -> str: ...

    @property
    def sha256(self) -> str: ...

    @property
    def created_at(self) -> datetime | None: ...

    @property
    def expires_at(self) -> datetime | None: ...

    @property
    def revoked_at(self) -> datetime | None: ...

    def model_dump(
        self, *, mode: str = ..., exclude: set[str] | None = ..., exclude_none: bool = ...
    ) -> dict[str, Any]: ...

    def model_copy(self, *, update: Mapping[str, Any] | None = ..., deep: bool = ...) -> Self: ...


S = TypeVar("S", bound=KeySpecLike)
T = TypeVar("T")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key(prefix: str) -> str:
    """A random key (256 bits) starting with `prefix`; shown once, only its hash is kept."""
    return prefix + secrets.token_urlsafe(32)


def bearer_token(authorization: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header value, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def with_key(specs: Sequence[S], spec: S) -> list[S]:
    """`specs` with `spec` added, replacing any key of the same name or hash."""
    return [*(s for s in specs if s.name != spec.name and s.sha256 != spec.sha256), spec]


class Refusal(StrEnum):
    """Why a presented key is not accepted."""

    MISSING = "missing"
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"


class KeyRefused(Exception):
    def __init__(self, reason: Refusal, name: str | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.name = name


def key_state(spec: KeySpecLike, now: datetime) -> Refusal | None:
    """None for a usable key, else why it is refused (revoked, expired). A key model without these fields (one
    written before they existed) is usable."""
    if getattr(spec, "revoked_at", None) is not None:
        return Refusal.REVOKED
    expires_at: datetime | None = getattr(spec, "expires_at", None)
    if expires_at is not None and expires_at <= now:
        return Refusal.EXPIRED
    return None


class KeyRing(Generic[S]):
    """Looks a presented key up by its hash; revoked and expired keys are refused. Every accepted key is
    recorded in `usage` (in memory, flushed at most once a minute)."""

    def __init__(self, specs: Iterable[S], usage: KeyUsage | None = None) -> None:
        self._by_hash = {spec.sha256: spec for spec in specs}
        self._usage = usage

    def __len__(self) -> int:
        return len(self._by_hash)

    def check(self, key: str | None, now: datetime | None = None) -> S:
        """The key's spec, or KeyRefused with the reason (missing, unknown, revoked, expired)."""
        if not key:
            raise KeyRefused(Refusal.MISSING)
        spec = self._by_hash.get(hash_key(key))
        if spec is None:
            raise KeyRefused(Refusal.UNKNOWN)
        refusal = key_state(spec, now or datetime.now(UTC))
        if refusal is not None:
            raise KeyRefused(refusal, spec.name)
        if self._usage is not None:
            self._usage.touch(spec.name)
        return spec

    def authenticate(self, key: str, now: datetime | None = None) -> S | None:
        try:
            return self.check(key, now)
        except KeyRefused:
            return None


class KeysFile(BaseModel, Generic[T]):
    """The keys file document."""

    model_config = ConfigDict(extra="forbid")

    keys: list[T] = []


class KeysFileError(Exception):
    """The keys file exists but cannot be read as a list of hashed keys."""


@cache
def _document(spec_model: type[Any]) -> type[KeysFile[Any]]:
    return KeysFile[spec_model]  # type: ignore[valid-type]


def read_keys(path: Path, spec_model: type[S]) -> list[S]:
    """Keys stored in `path` ([] when the file does not exist)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    try:
        keys: list[S] = _document(spec_model).model_validate_json(raw).keys
    except ValidationError as error:
        raise KeysFileError(f"{path}: {error.error_count()} error(s): {error.errors()[0]['msg']}") from None
    return keys


def write_keys(path: Path, keys: Sequence[KeySpecLike], *, exclude_none: bool = False) -> None:
    """Replace the file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"keys": [spec.model_dump(mode="json", exclude_none=exclude_none) for spec in keys]}
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class KeyStore(Generic[S]):
    """Keys from the file plus `extra` (from settings); the file is re-read (at most once per `check_every`
    seconds) when its mtime or size changed. A broken file keeps the last good keys."""

    def __init__(
        self,
        path: Path,
        spec_model: type[S],
        extra: Sequence[S] = (),
        check_every: float = 1.0,
        logger: logging.Logger = _default_logger,
        usage: KeyUsage | None = None,
    ) -> None:
        self.path = path
        self.spec_model = spec_model
        self.extra = list(extra)
        self.check_every = check_every
        self.usage = usage if usage is not None else KeyUsage(usage_path(path), logger=logger)
        self._logger = logger
        self._stamp: tuple[int, int] | None = None
        self._checked_at = time.monotonic()
        self._ring: KeyRing[S] = KeyRing(self.extra, self.usage)
        self._reload(force=True)

    def ring(self) -> KeyRing[S]:
        now = time.monotonic()
        if now - self._checked_at >= self.check_every:
            self._checked_at = now
            self._reload()
        return self._ring

    def _reload(self, force: bool = False) -> None:
        try:
            stat = self.path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp and not force:
            return
        try:
            keys = read_keys(self.path, self.spec_model)
        except (KeysFileError, OSError) as error:
            self._logger.error("ignoring the keys file, keeping the previous keys: %s", error)
            return
        self._stamp = stamp
        self._ring = KeyRing([*keys, *self.extra], self.usage)


class KeyFiles(Generic[S]):
    """One service's keys files: its key model, how it writes them and where it logs."""

    def __init__(self, spec_model: type[S], *, exclude_none: bool, logger: logging.Logger) -> None:
        self.spec_model = spec_model
        self.exclude_none = exclude_none
        self.logger = logger

    def read(self, path: Path) -> list[S]:
        """Keys stored in `path` ([] when the file does not exist)."""
        return read_keys(path, self.spec_model)

    def write(self, path: Path, keys: Sequence[S]) -> None:
        """Replace the file atomically, readable by its owner only."""
        write_keys(path, keys, exclude_none=self.exclude_none)

    def store(
        self, path: Path, extra: Sequence[S] = (), check_every: float = 1.0, usage_file: Path | None = None
    ) -> KeyStore[S]:
        """Keys from the file plus `extra` (from settings); a broken file keeps the last good keys. Last uses go
        to `usage_file` (default: beside the keys file, which may be read-only: services pass `usage_file_in`)."""
        usage = KeyUsage(usage_file or usage_path(path), logger=self.logger)
        return KeyStore(path, self.spec_model, extra, check_every=check_every, logger=self.logger, usage=usage)


def usage_path(keys_path: Path) -> Path:
    """Beside a keys file: `keys.json` -> `keys.usage.json` (when no var directory is known)."""
    return keys_path.with_name(f"{keys_path.stem}.usage.json")


def usage_file_in(var_dir: Path, service: str) -> Path:
    """Where a service records when its keys were last used: `var/tasks-keys.usage.json` (the keys file itself
    may be a read-only secret)."""
    return var_dir / f"{service}-keys.usage.json"


def ensure_demo_key(
    key_file: Path,
    stored: Sequence[S],
    prefix: str,
    spec_of: Callable[[str], S],
    write: Callable[[list[S]], None],
) -> str:
    """The local demo key kept in `key_file` (created on first use), its spec `spec_of(key)` stored with
    `write` unless `stored` already holds that key with the same rights; idempotent."""
    key = key_file.read_text(encoding="utf-8").strip() if key_file.exists() else ""
    retired = {spec.sha256 for spec in stored if key_state(spec, datetime.now(UTC)) is not None}
    if not key or hash_key(key) in retired:  # a revoked or expired demo key is replaced, never revived
        key = new_key(prefix)
    spec = spec_of(key)
    rights = spec.model_dump(exclude={"name", "created_at"})
    if not any(existing.model_dump(exclude={"name", "created_at"}) == rights for existing in stored):
        write(with_key(stored, spec))
    if not key_file.exists() or key_file.read_text(encoding="utf-8").strip() != key:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(key + "\n", encoding="utf-8")
        key_file.chmod(0o600)
    return key

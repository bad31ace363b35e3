"""The keys file (`var/ingest-keys.json`): hashed keys only, re-read when it changes on disk."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from services.ingest.domain.keys import KeyRing, KeySpec

logger = logging.getLogger("dvc_pulse.ingest.keys")


class KeysFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keys: list[KeySpec] = []


class KeysFileError(Exception):
    """The keys file exists but cannot be read as a list of hashed keys."""


def read_keys(path: Path) -> list[KeySpec]:
    """Keys stored in `path` ([] when the file does not exist)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    try:
        return KeysFile.model_validate_json(raw).keys
    except ValidationError as error:
        raise KeysFileError(f"{path}: {error.error_count()} error(s): {error.errors()[0]['msg']}") from None


def write_keys(path: Path, keys: Sequence[KeySpec]) -> None:
    """Replace the file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = KeysFile(keys=list(keys)).model_dump(mode="json")
    handle, temporary = tempfile.mkstemp(prefix=".ingest-keys-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class KeyStore:
    """Keys from the file and from settings; the file is re-read (at most once a second) when it changed,
    so `dvc-pulse ingest add-key` takes effect without a restart. A broken file keeps the last good keys."""

    def __init__(self, path: Path, extra: Sequence[KeySpec] = (), check_every: float = 1.0) -> None:
        self.path = path
        self.extra = list(extra)
        self.check_every = check_every
        self._stamp: tuple[int, int] | None = None
        self._checked_at = time.monotonic()
        self._ring = KeyRing(self.extra)
        self._reload(force=True)

    def ring(self) -> KeyRing:
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
            keys = read_keys(self.path)
        except (KeysFileError, OSError) as error:
            logger.error("ignoring the keys file, keeping the previous keys: %s", error)
            return
        self._stamp = stamp
        self._ring = KeyRing([*keys, *self.extra])

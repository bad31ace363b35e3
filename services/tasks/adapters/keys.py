"""The keys file (`var/tasks-keys.json`) and keys from the environment: hashed keys only, each bound to a unit
or admin. The file is re-read when it changes on disk, so `dvc-pulse tasks add-key` needs no restart."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from services.tasks.domain.access import KeyRing, KeySpec

logger = logging.getLogger("dvc_pulse.tasks.keys")
_SPECS = TypeAdapter(list[KeySpec])


class KeysFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keys: list[KeySpec] = []


class KeysFileError(Exception):
    """The keys file exists but is not a list of hashed keys."""


def parse_key_specs(text: str) -> list[KeySpec]:
    """`DVC_TASKS_KEYS`: a JSON list of key specs (name, sha256, unit or admin)."""
    if not text.strip():
        return []
    try:
        return _SPECS.validate_json(text)
    except ValidationError as error:
        raise KeysFileError(f"DVC_TASKS_KEYS: {error.errors()[0]['msg']}") from None


def read_keys(path: Path) -> list[KeySpec]:
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
    document = KeysFile(keys=list(keys)).model_dump(mode="json", exclude_none=True)
    handle, temporary = tempfile.mkstemp(prefix=".tasks-keys-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class KeyStore:
    """Keys from the file plus `extra` (from settings); a broken file keeps the last good keys."""

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

"""The keys file (`var/tasks-keys.json`) and keys from the environment: hashed keys only, each bound to a unit
or admin. The file is re-read when it changes on disk, so `dvc-pulse tasks add-key` needs no restart
(see services.runtime.api_keys)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from services.runtime import api_keys
from services.runtime.api_keys import KeysFileError, KeyStore
from services.tasks.domain.access import KeySpec

__all__ = ["KeysFileError", "key_store", "parse_key_specs", "read_keys", "write_keys"]

logger = logging.getLogger("dvc_pulse.tasks.keys")
_SPECS = TypeAdapter(list[KeySpec])


def parse_key_specs(text: str) -> list[KeySpec]:
    """`DVC_TASKS_KEYS`: a JSON list of key specs (name, sha256, unit or admin)."""
    if not text.strip():
        return []
    try:
        return _SPECS.validate_json(text)
    except ValidationError as error:
        raise KeysFileError(f"DVC_TASKS_KEYS: {error.errors()[0]['msg']}") from None


def read_keys(path: Path) -> list[KeySpec]:
    return api_keys.read_keys(path, KeySpec)


def write_keys(path: Path, keys: Sequence[KeySpec]) -> None:
    """Replace the file atomically, readable by its owner only."""
    api_keys.write_keys(path, keys, exclude_none=True)


def key_store(path: Path, extra: Sequence[KeySpec] = (), check_every: float = 1.0) -> KeyStore[KeySpec]:
    """Keys from the file plus `extra` (from settings); a broken file keeps the last good keys."""
    return KeyStore(path, KeySpec, extra, check_every=check_every, logger=logger)

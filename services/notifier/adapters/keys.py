"""The operator keys file (`var/notifier-keys.json`): hashed keys only, re-read when it changes on disk, so
`dvc-pulse notifier keys add` and `keys revoke` take effect without a restart (see services.runtime.api_keys)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from services.notifier.domain.operators import KeySpec
from services.runtime import api_keys
from services.runtime.api_keys import KeysFileError, KeyStore

__all__ = ["KeysFileError", "key_store", "read_keys", "write_keys"]

logger = logging.getLogger("dvc_pulse.notifier.keys")


def read_keys(path: Path) -> list[KeySpec]:
    """Keys stored in `path` ([] when the file does not exist)."""
    return api_keys.read_keys(path, KeySpec)


def write_keys(path: Path, keys: Sequence[KeySpec]) -> None:
    """Replace the file atomically, readable by its owner only."""
    api_keys.write_keys(path, keys, exclude_none=True)


def key_store(path: Path, extra: Sequence[KeySpec] = (), check_every: float = 1.0) -> KeyStore[KeySpec]:
    """Keys from the file and from settings; a broken file keeps the last good keys."""
    return KeyStore(path, KeySpec, extra, check_every=check_every, logger=logger)

"""The keys file (`var/tasks-keys.json`) and keys from the environment: hashed keys only, each bound to a unit
or admin. The file is re-read when it changes on disk, so `dvc-pulse tasks keys add|revoke|rotate` need no restart
(see services.runtime.api_keys)."""

from __future__ import annotations

import logging

from pydantic import TypeAdapter, ValidationError

from services.runtime.api_keys import KeyFiles, KeysFileError
from services.tasks.domain.access import KeySpec

__all__ = ["KeysFileError", "key_files", "key_store", "parse_key_specs", "read_keys", "write_keys"]

key_files = _files = KeyFiles(KeySpec, exclude_none=True, logger=logging.getLogger("dvc_pulse.tasks.keys"))
read_keys = _files.read
write_keys = _files.write
key_store = _files.store
_SPECS = TypeAdapter(list[KeySpec])


def parse_key_specs(text: str) -> list[KeySpec]:
    """`DVC_TASKS_KEYS`: a JSON list of key specs (name, sha256, unit or admin)."""
    if not text.strip():
        return []
    try:
        return _SPECS.validate_json(text)
    except ValidationError as error:
        raise KeysFileError(f"DVC_TASKS_KEYS: {error.errors()[0]['msg']}") from None

"""The operator keys file (`var/notifier-keys.json`): hashed keys only, re-read when it changes on disk, so
`dvc-pulse notifier keys add` and `keys revoke` take effect without a restart (see services.runtime.api_keys)."""

from __future__ import annotations

import logging

from services.notifier.domain.operators import KeySpec
from services.runtime.api_keys import KeyFiles, KeysFileError

__all__ = ["KeysFileError", "key_files", "key_store", "read_keys", "write_keys"]

key_files = _files = KeyFiles(KeySpec, exclude_none=True, logger=logging.getLogger("dvc_pulse.notifier.keys"))
read_keys = _files.read
write_keys = _files.write
key_store = _files.store

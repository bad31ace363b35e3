"""The keys file (`var/ingest-keys.json`): hashed keys only, re-read when it changes on disk, so
`dvc-pulse ingest keys add|revoke|rotate` take effect without a restart (see services.runtime.api_keys)."""

from __future__ import annotations

import logging

from services.ingest.domain.keys import KeySpec
from services.runtime.api_keys import KeyFiles, KeysFileError

__all__ = ["KeysFileError", "key_files", "key_store", "read_keys", "write_keys"]

# Ingest has always written `created_at: null` for keys without a creation time; kept so its files do not change.
key_files = _files = KeyFiles(KeySpec, exclude_none=False, logger=logging.getLogger("dvc_pulse.ingest.keys"))
read_keys = _files.read
write_keys = _files.write
key_store = _files.store

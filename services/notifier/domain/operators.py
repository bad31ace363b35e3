"""Operator keys: who may read notifications (texts, masked phones) and opt a phone out over HTTP.

An operator key carries no rights beyond being valid, so its stored model is the shared one
(services.contracts.keys); hashing, the keys file and lookup by hash are shared too (services.runtime.api_keys).
"""

from __future__ import annotations

from services.contracts.keys import StoredKey

KEY_PREFIX = "dvcnk_"


class KeySpec(StoredKey):
    """One stored operator key."""

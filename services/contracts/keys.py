"""The stored form of an API key, common to the services' keys files: a name, the key's SHA-256 (never the
key), when it was created, when it expires and when it was revoked (a revoked key stays listed, refused).
Each service subclasses it with what its keys may do. Files written before expiry and revocation existed
lack both fields and still load."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from services.contracts._base import ContractModel

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
KeyName = Annotated[str, Field(min_length=1, max_length=100)]


class StoredKey(ContractModel):
    name: KeyName
    sha256: Sha256Hex
    created_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

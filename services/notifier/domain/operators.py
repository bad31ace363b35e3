"""Operator keys: who may read notifications (texts, masked phones) and opt a phone out over HTTP.

An operator key carries no rights beyond being valid. Hashing, the keys file and lookup by hash are shared
(services.runtime.api_keys); here only the stored model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

KEY_PREFIX = "dvcnk_"
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class KeySpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)]
    sha256: Sha256Hex
    created_at: datetime | None = None

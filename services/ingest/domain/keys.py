"""Ingest keys: only a key's SHA-256 is stored, and each key is bound to the CloudEvents sources it may send.

Hashing, the keys file and lookup by hash are shared (services.runtime.api_keys); here: what a key may send.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

KEY_PREFIX = "dvcik_"
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
SourcePattern = Annotated[str, StringConstraints(min_length=1, max_length=512, strip_whitespace=True)]


class KeySpec(BaseModel):
    """One stored key: `sources` are exact sources or prefixes ending in `*` (`urn:dvc:*`; `*` alone: any)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)]
    sha256: Sha256Hex
    sources: Annotated[tuple[SourcePattern, ...], Field(min_length=1)]
    created_at: datetime | None = None

    def allows(self, source: str) -> bool:
        return any(source_matches(pattern, source) for pattern in self.sources)


def source_matches(pattern: str, source: str) -> bool:
    if pattern.endswith("*"):
        return source.startswith(pattern[:-1])
    return source == pattern


def forbidden_sources(spec: KeySpec, sources: Iterable[str]) -> list[str]:
    """Sources (sorted, unique) the key may not send."""
    return sorted(source for source in set(sources) if not spec.allows(source))

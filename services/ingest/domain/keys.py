"""Ingest keys: only a key's SHA-256 is stored, and each key is bound to the CloudEvents sources it may send."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
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


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A random key (256 bits); shown once, only its hash is kept."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


class KeyRing:
    """Looks a presented key up by its hash."""

    def __init__(self, specs: Iterable[KeySpec]) -> None:
        self._by_hash = {spec.sha256: spec for spec in specs}

    def __len__(self) -> int:
        return len(self._by_hash)

    def authenticate(self, key: str) -> KeySpec | None:
        return self._by_hash.get(hash_key(key))


def forbidden_sources(spec: KeySpec, sources: Iterable[str]) -> list[str]:
    """Sources (sorted, unique) the key may not send."""
    return sorted(source for source in set(sources) if not spec.allows(source))


def bearer_token(authorization: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header value, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def with_key(specs: Sequence[KeySpec], spec: KeySpec) -> list[KeySpec]:
    """`specs` with `spec` added, replacing any key of the same name or hash."""
    kept = [s for s in specs if s.name != spec.name and s.sha256 != spec.sha256]
    return [*kept, spec]

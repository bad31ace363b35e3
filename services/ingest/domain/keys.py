"""Ingest keys: only a key's SHA-256 is stored, and each key is bound to the CloudEvents sources it may send.

The name, hash and creation time are the shared stored key (services.contracts.keys); hashing, the keys file
and lookup by hash are shared too (services.runtime.api_keys); here: what a key may send.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import Field, StringConstraints

from services.contracts.keys import StoredKey

KEY_PREFIX = "dvcik_"
SourcePattern = Annotated[str, StringConstraints(min_length=1, max_length=512, strip_whitespace=True)]


class KeySpec(StoredKey):
    """One stored key: `sources` are exact sources or prefixes ending in `*` (`urn:dvc:*`; `*` alone: any);
    `sms_consent`: see docs/integration-dvcqg.md."""

    sources: Annotated[tuple[SourcePattern, ...], Field(min_length=1)]
    sms_consent: bool = Field(
        default=False,
        description="The source collected the applicants' SMS consent (portal payloads carry none): only then do "
        "the events derived from its portal payloads carry the phone and consent",
    )

    def allows(self, source: str) -> bool:
        return any(source_matches(pattern, source) for pattern in self.sources)


def source_matches(pattern: str, source: str) -> bool:
    if pattern.endswith("*"):
        return source.startswith(pattern[:-1])
    return source == pattern


def forbidden_sources(spec: KeySpec, sources: Iterable[str]) -> list[str]:
    """Sources (sorted, unique) the key may not send."""
    return sorted(source for source in set(sources) if not spec.allows(source))


def unknown_sources(patterns: Iterable[str], known: Iterable[str]) -> list[str]:
    """The patterns a new key asks for that no known source pattern covers (`urn:dvc:lam-thao:*` is covered by
    `urn:dvc:*`; `*` only by `*`)."""
    known = list(known)

    def covered(pattern: str) -> bool:
        if pattern.endswith("*"):
            return any(k.endswith("*") and pattern[:-1].startswith(k[:-1]) for k in known)
        return any(source_matches(k, pattern) for k in known)

    return [pattern for pattern in patterns if not covered(pattern.strip())]

"""What the ingest's use cases need from the outside (keys, the event log, metrics, the import checkpoints, the
portal's dossier memos and mapping tables), as Protocols: the adapters
implement them, the unit tests pass in-memory fakes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from services.contracts.events import CloudEvent
from services.ingest.domain.checkpoints import Checkpoint
from services.ingest.domain.dvcqg import DossierMemo, Unmapped
from services.ingest.domain.dvcqg_tables import MappingTables
from services.ingest.domain.keys import KeySpec
from services.ingest.domain.publishing import Ack
from services.ingest.domain.validation import Reason
from services.runtime.api_keys import KeyRing


class KeySource(Protocol):
    def ring(self) -> KeyRing[KeySpec]: ...


class EventPublisher(Protocol):
    """Publishes every event and returns one ack each, in order; raises TooLarge or Unavailable."""

    async def publish(self, events: Sequence[CloudEvent]) -> list[Ack]: ...


class IngestMetricsPort(Protocol):
    def published(self, ingress: str, accepted: Mapping[str, int], duplicates: Mapping[str, int]) -> None: ...

    def rejected(self, ingress: str, reason: Reason, types: Mapping[str, int]) -> None: ...

    def publish_took(self, ingress: str, seconds: float) -> None: ...

    def portal_record(self, service: str, result: str) -> None: ...


class CheckpointStore(Protocol):
    """Where an import file's checkpoint is kept between runs (keyed by the file)."""

    def load(self, source: Path) -> Checkpoint | None: ...

    def save(self, source: Path, checkpoint: Checkpoint) -> None: ...


class DossierStateStore(Protocol):
    """What is remembered of the portal's dossiers per source: each dossier's memo and the unmapped codes seen.
    Synchronous: the sync calls it in a worker thread."""

    def load(self, source: str, codes: Iterable[str]) -> dict[str, DossierMemo]: ...

    def save(
        self, source: str, memos: Mapping[str, DossierMemo], unmapped: Iterable[Unmapped], at: datetime
    ) -> None: ...


class MappingSource(Protocol):
    """The portal mapping tables in force (re-read by the adapter when their file changes)."""

    def tables(self) -> MappingTables: ...

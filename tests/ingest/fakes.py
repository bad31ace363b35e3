"""In-memory fakes of the ingest's ports (services.ingest.service_layer.ports) for the use cases' unit tests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from services.contracts.events import CloudEvent
from services.ingest.domain.checkpoints import Checkpoint
from services.ingest.domain.dvcqg import DossierMemo, Unmapped
from services.ingest.domain.dvcqg_tables import MappingTables
from services.ingest.domain.keys import KeySpec
from services.ingest.domain.publishing import Ack, Unavailable
from services.ingest.domain.validation import Reason
from services.runtime.api_keys import KeyRing


@dataclass
class FixedKeys:
    specs: list[KeySpec]

    def ring(self) -> KeyRing[KeySpec]:
        return KeyRing(self.specs)


@dataclass
class InMemoryEventLog:
    """Deduplicates by (source, id) like JetStream; `failure` makes the next publish raise it."""

    stored: list[CloudEvent] = field(default_factory=list)
    failure: Exception | None = None

    async def publish(self, events: Sequence[CloudEvent]) -> list[Ack]:
        if self.failure is not None:
            raise self.failure
        acks = []
        for event in events:
            sequence = next(
                (
                    number
                    for number, kept in enumerate(self.stored, 1)
                    if (kept.source, kept.id) == (event.source, event.id)
                ),
                None,
            )
            if sequence is None:
                self.stored.append(event)
            acks.append(Ack(sequence or len(self.stored), sequence is not None))
        return acks


@dataclass
class CountingMetrics:
    accepted: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    rejections: Counter[Reason] = field(default_factory=Counter)
    publishes: int = 0
    portal_results: Counter[str] = field(default_factory=Counter)

    def published(self, ingress: str, accepted: Mapping[str, int], duplicates: Mapping[str, int]) -> None:
        self.accepted.update(accepted)
        self.duplicates.update(duplicates)

    def rejected(self, ingress: str, reason: Reason, types: Mapping[str, int]) -> None:
        self.rejections[reason] += 1

    def publish_took(self, ingress: str, seconds: float) -> None:
        self.publishes += 1

    def portal_record(self, service: str, result: str) -> None:
        self.portal_results[result] += 1


@dataclass
class FailingAfter:
    """An event log that takes `publishes` batches, then answers Unavailable (JetStream went away)."""

    log: InMemoryEventLog
    publishes: int

    async def publish(self, events: Sequence[CloudEvent]) -> list[Ack]:
        if self.publishes <= 0:
            raise Unavailable("no responders")
        self.publishes -= 1
        return await self.log.publish(events)


@dataclass
class InMemoryCheckpoints:
    """Keeps copies, so the use case's later changes to its checkpoint are not seen until it saves again."""

    kept: dict[Path, Checkpoint] = field(default_factory=dict)

    def load(self, source: Path) -> Checkpoint | None:
        checkpoint = self.kept.get(source)
        return None if checkpoint is None else checkpoint.model_copy()

    def save(self, source: Path, checkpoint: Checkpoint) -> None:
        self.kept[source] = checkpoint.model_copy()


@dataclass
class InMemoryDossierStates:
    memos: dict[tuple[str, str], DossierMemo] = field(default_factory=dict)
    unmapped: list[tuple[str, Unmapped]] = field(default_factory=list)

    def load(self, source: str, codes: Iterable[str]) -> dict[str, DossierMemo]:
        return {code: self.memos[(source, code)] for code in codes if (source, code) in self.memos}

    def save(self, source: str, memos: Mapping[str, DossierMemo], unmapped: Iterable[Unmapped], at: datetime) -> None:
        self.memos.update(((source, code), memo) for code, memo in memos.items())
        self.unmapped.extend((source, item) for item in unmapped)


@dataclass
class FixedMapping:
    mapping: MappingTables

    def tables(self) -> MappingTables:
        return self.mapping

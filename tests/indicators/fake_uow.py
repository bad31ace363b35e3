"""In-memory implementations of the projection ports, for unit tests of the use cases."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Sequence
from types import TracebackType
from typing import Self

from services.indicators.domain.catalog import DocumentState, FeedbackState, ProcedureState
from services.indicators.domain.dossier import DossierEvent, DossierState
from services.indicators.domain.stream_position import StreamPosition
from services.indicators.service_layer.messages import Incoming
from services.indicators.service_layer.unit_of_work import Identity


class Stored:
    """What a database would hold; every unit of work reads and writes a copy that `commit` publishes."""

    def __init__(self) -> None:
        self.events: dict[Identity, Incoming] = {}
        self.dossiers: dict[str, DossierState] = {}
        self.procedures: dict[str, ProcedureState] = {}
        self.versions: dict[tuple[str, str], ProcedureState] = {}
        self.documents: dict[str, DocumentState] = {}
        self.feedback: dict[str, FeedbackState] = {}
        self.positions: dict[str, StreamPosition] = {}


class FakeEventLog:
    def __init__(self, stored: Stored) -> None:
        self.stored = stored

    async def record_new(self, items: Sequence[Incoming]) -> set[Identity]:
        new = {(item.source, item.id) for item in items} - set(self.stored.events)
        self.stored.events.update(((item.source, item.id), item) for item in items if (item.source, item.id) in new)
        return new

    async def dossier_history(self, codes: Sequence[str]) -> dict[str, list[DossierEvent]]:
        history: dict[str, list[DossierEvent]] = defaultdict(list)
        for item in self.stored.events.values():
            if isinstance(item.projected, DossierEvent) and item.projected.dossier_code in codes:
                history[item.projected.dossier_code].append(item.projected)
        return history


class FakeDossiers:
    def __init__(self, stored: Stored) -> None:
        self.stored = stored

    async def get_many(self, codes: Sequence[str]) -> dict[str, DossierState]:
        return {code: self.stored.dossiers[code] for code in codes if code in self.stored.dossiers}

    async def save(self, states: Sequence[DossierState]) -> None:
        self.stored.dossiers.update((state.dossier_code, state) for state in states)


class FakeCatalog:
    def __init__(self, stored: Stored) -> None:
        self.stored = stored

    async def procedures(self, codes: Sequence[str]) -> dict[str, ProcedureState]:
        return {code: self.stored.procedures[code] for code in codes if code in self.stored.procedures}

    async def save_procedures(self, states: Sequence[ProcedureState]) -> None:
        self.stored.procedures.update((state.procedure_code, state) for state in states)

    async def record_versions(self, versions: Sequence[ProcedureState]) -> None:
        for version in versions:
            self.stored.versions.setdefault((version.procedure_code, version.last_event_key), version)

    async def document_keys(self, document_ids: Sequence[str]) -> dict[str, str]:
        documents = self.stored.documents
        return {key: documents[key].last_event_key for key in document_ids if key in documents}

    async def save_documents(self, states: Sequence[DocumentState]) -> None:
        self.stored.documents.update((state.document_id, state) for state in states)

    async def feedback_keys(self, dossier_codes: Sequence[str]) -> dict[str, str]:
        feedback = self.stored.feedback
        return {key: feedback[key].last_event_key for key in dossier_codes if key in feedback}

    async def save_feedback(self, states: Sequence[FeedbackState]) -> None:
        self.stored.feedback.update((state.dossier_code, state) for state in states)


class FakePositions:
    def __init__(self, stored: Stored) -> None:
        self.stored = stored

    async def get(self, consumer: str) -> StreamPosition | None:
        return self.stored.positions.get(consumer)

    async def save(self, position: StreamPosition) -> None:
        self.stored.positions[position.consumer] = position


class FakeUnitOfWork:
    """Works on a deep copy of `database`; `commit` replaces the database's content with it."""

    def __init__(self, database: Stored, *, fail_commit: bool = False) -> None:
        self.database = database
        self.fail_commit = fail_commit
        self.committed = False

    async def __aenter__(self) -> Self:
        self.working = copy.deepcopy(self.database)
        self.events = FakeEventLog(self.working)
        self.dossiers = FakeDossiers(self.working)
        self.catalog = FakeCatalog(self.working)
        self.positions = FakePositions(self.working)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        del self.working

    async def commit(self) -> None:
        if self.fail_commit:
            raise RuntimeError("the database went away")
        self.database.__dict__.update(self.working.__dict__)
        self.committed = True

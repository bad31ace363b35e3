"""Ports of the projections: one unit of work (one transaction) over the repositories a batch writes.

Entering the unit of work serialises it with every other writer of the projections; leaving it without
`commit()` rolls everything back.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from services.indicators.domain.catalog import DocumentState, FeedbackState, ProcedureState
from services.indicators.domain.dossier import DossierEvent, DossierState
from services.indicators.domain.stream_position import StreamPosition
from services.indicators.service_layer.messages import Incoming

Identity = tuple[str, str]  # (source, id)


class EventLog(Protocol):
    async def record_new(self, items: Sequence[Incoming]) -> set[Identity]:
        """Record every event not recorded yet; the identities that were new."""
        ...

    async def dossier_history(self, codes: Sequence[str]) -> dict[str, list[DossierEvent]]:
        """Every recorded event of these dossiers."""
        ...


class DossierRepository(Protocol):
    async def get_many(self, codes: Sequence[str]) -> dict[str, DossierState]:
        """Stored states (absent codes have none); the caller may mutate them before `save`."""
        ...

    async def save(self, states: Sequence[DossierState]) -> None: ...


class CatalogRepository(Protocol):
    """Procedures (merged), their versions (kept), documents and feedback (latest event wins)."""

    async def procedures(self, codes: Sequence[str]) -> dict[str, ProcedureState]: ...

    async def save_procedures(self, states: Sequence[ProcedureState]) -> None: ...

    async def record_versions(self, versions: Sequence[ProcedureState]) -> None: ...

    async def document_keys(self, document_ids: Sequence[str]) -> dict[str, str]:
        """`last_event_key` of the stored documents."""
        ...

    async def save_documents(self, states: Sequence[DocumentState]) -> None: ...

    async def feedback_keys(self, dossier_codes: Sequence[str]) -> dict[str, str]:
        """`last_event_key` of the stored feedback."""
        ...

    async def save_feedback(self, states: Sequence[FeedbackState]) -> None: ...


class PositionRepository(Protocol):
    async def get(self, consumer: str) -> StreamPosition | None:
        """Read first in a unit of work (the SQL adapter validates its cache of dossier states here)."""
        ...

    async def save(self, position: StreamPosition) -> None: ...


class UnitOfWork(Protocol):
    """One transaction: entered, then committed; left without `commit()` it rolls back."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class ProjectionUnitOfWork(UnitOfWork, Protocol):
    @property
    def events(self) -> EventLog: ...

    @property
    def dossiers(self) -> DossierRepository: ...

    @property
    def catalog(self) -> CatalogRepository: ...

    @property
    def positions(self) -> PositionRepository: ...

"""Ports of the early-warning sweep: the alerts it records and publishes, the dossiers it learns from."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.indicators.domain.dossier import DossierState
from services.indicators.domain.warning import DossierAlert
from services.indicators.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class PendingAlert:
    alert_id: str
    kind: str
    payload: bytes


class AlertRepository(Protocol):
    async def raised_ids(self, dossier_codes: Iterable[str]) -> set[str]:
        """Ids of the alerts already raised for these dossiers."""
        ...

    async def record(self, alerts: Sequence[DossierAlert]) -> None:
        """Insert the alerts; an id already present (a concurrent sweep) is left as it is."""
        ...

    async def mark_published(self, alert_ids: Sequence[str], at: datetime) -> None: ...


class WarningUnitOfWork(UnitOfWork, Protocol):
    @property
    def alerts(self) -> AlertRepository: ...


class WarningReader(Protocol):
    def training_dossier_pages(self, accepted_since: datetime) -> AsyncIterator[list[DossierState]]:
        """Dossiers accepted since then, open or ended (the model's samples), a page at a time: a page is a
        short read, so the live consumer gets the event loop between pages."""
        ...

    def open_dossier_pages(self) -> AsyncIterator[list[DossierState]]:
        """The open dossiers, a page at a time."""
        ...

    async def procedure_fields(self) -> dict[str, str]:
        """Procedure code -> its field in the catalogue."""
        ...

    async def pending(self, limit: int) -> list[PendingAlert]:
        """Recorded alerts JetStream has not acknowledged yet, oldest first."""
        ...

    async def alert_counts(self) -> tuple[dict[str, int], int]:
        """Alerts raised so far by kind, and how many are not yet acknowledged by JetStream."""
        ...

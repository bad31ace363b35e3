"""The ports of the notifier's use cases: a unit of work (one transaction) and the repositories it opens.
The SQL implementations live in `adapters`; the unit tests use in-memory ones."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from services.notifier.domain.incoming import Incoming
from services.notifier.domain.sending import DeliveryReceipt
from services.notifier.service_layer.messages import Change, CountedRow, Due, Purged, Step, StoredContact, Waiting

Steps = Mapping[str, Mapping[str, datetime]]  # dossier code -> event kind -> latest event time


class DeliveryRepository(Protocol):
    async def due(self, now: datetime, limit: int, urgent_only: bool) -> list[Due]:
        """Up to `limit` `created` messages due at `now`, oldest first (locked for this transaction)."""
        ...

    async def opted_out(self, phone_hashes: Collection[str]) -> set[str]:
        """The hashes among these that opted out."""
        ...

    async def consents(self, dossier_codes: Collection[str]) -> dict[str, bool | None]:
        """The applicant's SMS consent of each dossier with a recorded contact."""
        ...

    async def steps(self, dossier_codes: Collection[str]) -> Steps: ...

    async def write(self, changes: Sequence[Change], at: datetime) -> list[Change]:
        """Apply the changes the transition table allows from the rows' current statuses; returns those applied."""
        ...

    async def mark_sending(self, due: Sequence[Due], at: datetime) -> list[str]:
        """Move these `created` messages to `sending` (one more attempt, a status event each); returns the ids
        that moved."""
        ...


class ReceiptRepository(Protocol):
    async def store(self, items: Sequence[DeliveryReceipt], at: datetime) -> None: ...

    async def changes_for(self, references: Sequence[tuple[str, str]]) -> list[Change]:
        """The changes the stored receipts of these (provider, reference) pairs make to their notifications."""
        ...

    async def unapplied(self) -> list[tuple[str, str]]:
        """(provider, reference) of stored receipts whose notification has not taken them yet."""
        ...


class SweepRepository(Protocol):
    """The dispatcher's periodic expiries and measures; each finder returns the changes to write."""

    async def unanswered(self, older_than: datetime) -> list[Change]: ...

    async def contact_never_came(self, older_than: datetime) -> list[Change]: ...

    async def stuck_sending(self, older_than: datetime) -> list[Change]: ...

    async def unknown_overdue(self, older_than: datetime) -> list[Change]: ...

    async def queue_depth(self, now: datetime) -> dict[str, int]: ...

    async def sent_total(self) -> int: ...


class PlanningReads(Protocol):
    """What deciding a group of would-be notifications looks up (`service_layer.planning`)."""

    async def opted_out(self, phone_hashes: Collection[str]) -> set[str]: ...

    async def recent_content(self, content_hashes: Collection[str], since: datetime) -> set[str]:
        """The content hashes among these planned since `since` (the duplicate window)."""
        ...

    async def counted_between(
        self, phone_hashes: Collection[str], dossier_codes: Collection[str], start: datetime, end: datetime
    ) -> list[CountedRow]:
        """Notifications toward a cap (same phone, or same dossier) planned for [start, end)."""
        ...


class StepsRepository(Protocol):
    """Dossier steps and the messages a newer step supersedes (`service_layer.steps`)."""

    async def record_steps(self, steps: Sequence[Step], at: datetime) -> None:
        """Keep the latest time of each (dossier, kind); an older event arriving late changes nothing."""
        ...

    async def steps(self, dossier_codes: Collection[str]) -> Steps: ...

    async def waiting_messages(self, dossier_codes: Collection[str]) -> list[Waiting]:
        """`created` messages of these dossiers whose event kind some newer step can supersede."""
        ...

    async def write(self, changes: Sequence[Change], at: datetime) -> list[Change]: ...


class IntakeRepository(PlanningReads, StepsRepository, Protocol):
    """The intake transaction (`service_layer.handlers`): processed events, contacts, new notifications."""

    async def record_processed(self, items: Sequence[Incoming], at: datetime) -> list[Incoming]:
        """Record each (source, id) not yet recorded; returns the new items, in their order, once each."""
        ...

    async def contacts(self, dossier_codes: Collection[str]) -> dict[str, StoredContact]: ...

    async def upsert_contacts(self, rows: Sequence[dict[str, Any]]) -> None:
        """One row per dossier, replacing a stored row only with a newer event's."""
        ...

    async def awaiting_contact(self, dossier_codes: Collection[str]) -> list[Any]:
        """Citizen messages of these dossiers still waiting for the applicant's contact, oldest first."""
        ...

    async def insert_notifications(self, rows: Sequence[dict[str, Any]], at: datetime) -> set[str]:
        """Insert, never twice for one (event identity, template), each with its status event; returns the ids
        actually inserted."""
        ...

    async def save_position(self, consumer: str, sequence: int, at: datetime) -> None: ...


class OptOutRepository(Protocol):
    async def add(
        self, phone_hash: str, source: str, at: datetime, phone_encrypted: bytes | None
    ) -> tuple[bool, list[Change]]:
        """Record the opt-out (idempotent: False when it was already there) and skip every message still waiting
        for that phone; returns the changes written."""
        ...


class RekeyingRepository(Protocol):
    """Every stored ciphertext and phone hash, for a key rotation (rows as the store reads them)."""

    async def contact_rows(self) -> list[Any]: ...

    async def notification_rows(self) -> list[Any]: ...

    async def opt_out_rows(self) -> list[Any]: ...

    async def update_contacts(self, rows: Sequence[dict[str, Any]]) -> None: ...

    async def update_notifications(self, rows: Sequence[dict[str, Any]]) -> None: ...

    async def replace_opt_outs(self, old_hashes: Sequence[str], rows: Sequence[dict[str, Any]]) -> None: ...

    async def record_fingerprint(self, fingerprint: str, at: datetime) -> None: ...


class RetentionRepository(Protocol):
    async def purge(self, cutoff: datetime) -> Purged:
        """Delete the personal data older than `cutoff` (opt-outs stay)."""
        ...


class UnitOfWork(Protocol):
    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None: ...


class DeliveryUnitOfWork(UnitOfWork, Protocol):
    @property
    def deliveries(self) -> DeliveryRepository: ...


class RetentionUnitOfWork(UnitOfWork, Protocol):
    @property
    def retention(self) -> RetentionRepository: ...


class OptOutUnitOfWork(UnitOfWork, Protocol):
    @property
    def optouts(self) -> OptOutRepository: ...


class RekeyingUnitOfWork(UnitOfWork, Protocol):
    @property
    def rekeying(self) -> RekeyingRepository: ...


class IntakeUnitOfWork(UnitOfWork, Protocol):
    @property
    def intake(self) -> IntakeRepository: ...


class DispatchUnitOfWork(DeliveryUnitOfWork, Protocol):
    @property
    def receipts(self) -> ReceiptRepository: ...

    @property
    def sweeps(self) -> SweepRepository: ...

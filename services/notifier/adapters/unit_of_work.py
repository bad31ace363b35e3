"""The SQL unit of work and repository behind the notifier's delivery use cases (`service_layer.unit_of_work`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Self

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifier.adapters import delivery_store, queries, receipt_store
from services.notifier.adapters.dossier_steps import load_steps
from services.notifier.adapters.intake_store import SqlIntake
from services.notifier.adapters.rekeying import SqlRekeying
from services.notifier.adapters.sent_total import sent_total
from services.notifier.adapters.tables import contacts, opt_outs
from services.notifier.domain.sending import DeliveryReceipt
from services.notifier.service_layer.messages import Change, Due, Purged
from services.notifier.service_layer.unit_of_work import Steps
from services.runtime.db import SessionUnitOfWork


class SqlDeliveries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def due(self, now: datetime, limit: int, urgent_only: bool) -> list[Due]:
        return await delivery_store.due_for_claim(self.session, now, limit, urgent_only)

    async def opted_out(self, phone_hashes: Collection[str]) -> set[str]:
        query = select(opt_outs.c.phone_hash).where(opt_outs.c.phone_hash.in_(sorted(phone_hashes)))
        return set((await self.session.execute(query)).scalars())

    async def consents(self, dossier_codes: Collection[str]) -> dict[str, bool | None]:
        query = select(contacts.c.dossier_code, contacts.c.sms_consent)
        query = query.where(contacts.c.dossier_code.in_(sorted(dossier_codes)))
        return {row.dossier_code: row.sms_consent for row in await self.session.execute(query)}

    async def steps(self, dossier_codes: Collection[str]) -> Steps:
        return await load_steps(self.session, dossier_codes)

    async def write(self, changes: Sequence[Change], at: datetime) -> list[Change]:
        return await delivery_store.write_changes(self.session, changes, at)

    async def mark_sending(self, due: Sequence[Due], at: datetime) -> list[str]:
        return await delivery_store.mark_sending(self.session, due, at)


class SqlReceipts:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def store(self, items: Sequence[DeliveryReceipt], at: datetime) -> None:
        await receipt_store.store_receipts(self.session, items, at)

    async def changes_for(self, references: Sequence[tuple[str, str]]) -> list[Change]:
        return await receipt_store.receipt_changes(self.session, references)

    async def unapplied(self) -> list[tuple[str, str]]:
        return await receipt_store.unapplied_receipts(self.session)


class SqlSweeps:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def unanswered(self, older_than: datetime) -> list[Change]:
        return await delivery_store.unanswered(self.session, older_than)

    async def contact_never_came(self, older_than: datetime) -> list[Change]:
        return await delivery_store.contact_never_came(self.session, older_than)

    async def stuck_sending(self, older_than: datetime) -> list[Change]:
        return await delivery_store.stuck_sending(self.session, older_than)

    async def unknown_overdue(self, older_than: datetime) -> list[Change]:
        return await delivery_store.unknown_overdue(self.session, older_than)

    async def queue_depth(self, now: datetime) -> dict[str, int]:
        return await delivery_store.queue_depth(self.session, now)

    async def sent_total(self) -> int:
        return await sent_total(self.session)


class SqlRetention:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def purge(self, cutoff: datetime) -> Purged:
        return await queries.purge(self.session, cutoff)


class SqlOptOuts:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, phone_hash: str, source: str, at: datetime, phone_encrypted: bytes | None
    ) -> tuple[bool, list[Change]]:
        return await queries.add_opt_out(self.session, phone_hash, source, at, phone_encrypted)


class SqlUnitOfWork(SessionUnitOfWork):
    """One transaction on one session; what is not committed is rolled back when the block ends."""

    deliveries: SqlDeliveries
    receipts: SqlReceipts
    sweeps: SqlSweeps
    retention: SqlRetention
    optouts: SqlOptOuts
    intake: SqlIntake
    rekeying: SqlRekeying

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def __aenter__(self) -> Self:
        self.session = self.sessions()
        await self.session.begin()
        self.deliveries = SqlDeliveries(self.session)
        self.receipts = SqlReceipts(self.session)
        self.sweeps = SqlSweeps(self.session)
        self.retention = SqlRetention(self.session)
        self.optouts = SqlOptOuts(self.session)
        self.intake = SqlIntake(self.session)
        self.rekeying = SqlRekeying(self.session)
        return self

"""Reads for the API and the writes of opt-outs and retention purges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.contracts.alerts import NotificationStatus as S
from services.notifier.adapters.delivery_store import write_changes
from services.notifier.adapters.sql import insert
from services.notifier.adapters.tables import contacts, dossier_steps, notifications, opt_outs, receipts
from services.notifier.service_layer.messages import Change, Purged

n = notifications.c


async def list_notifications(
    session: AsyncSession, *, dossier_code: str | None, status: str | None, limit: int
) -> list[Any]:
    query = select(notifications)
    if dossier_code is not None:
        query = query.where(n.dossier_code == dossier_code)
    if status is not None:
        query = query.where(n.status == status)
    return list(await session.execute(query.order_by(n.created_at.desc(), n.id).limit(limit)))


async def get_notification(session: AsyncSession, notification_id: str) -> Any | None:
    return (await session.execute(select(notifications).where(n.id == notification_id))).first()


async def add_opt_out(
    session: AsyncSession, phone_hash: str, source: str, at: datetime, phone_encrypted: bytes | None = None
) -> tuple[bool, list[Change]]:
    """Record the opt-out (idempotent) and skip every message still waiting for that phone. The encrypted
    phone is kept so that a new hash key can re-hash the opt-out (`rotate-key`)."""
    statement = insert(session, opt_outs).values(
        phone_hash=phone_hash, source=source[:64], created_at=at, phone_encrypted=phone_encrypted
    )
    result = await session.execute(
        statement.on_conflict_do_nothing(index_elements=["phone_hash"]).returning(opt_outs.c.phone_hash)
    )
    created = result.first() is not None
    query = select(n.id, n.template_id, n.dossier_code).where(n.phone_hash == phone_hash, n.status == S.CREATED.value)
    values = {"reason": "opted_out", "phone_encrypted": None, "text": None}
    changes = [
        Change(row.id, row.template_id, row.dossier_code, S.SKIPPED, dict(values), "opted_out")
        for row in await session.execute(query)
    ]
    await write_changes(session, changes, at)
    return created, changes


async def purge(session: AsyncSession, cutoff: datetime) -> Purged:
    """Delete personal data older than `cutoff`: phones and texts of notifications (statuses stay for the
    statistics), dossier contacts, receipts. Opt-outs stay: they are keyed hashes and must keep working."""
    cleared = await session.execute(
        update(notifications)
        .where(
            n.created_at < cutoff,
            (n.phone_encrypted.is_not(None)) | (n.text.is_not(None)) | (n.phone_hash.is_not(None)),
        )
        .values(phone_encrypted=None, phone_hash=None, content_hash=None, text=None, detail=None)
    )
    removed_contacts = await session.execute(delete(contacts).where(contacts.c.updated_at < cutoff))
    removed_receipts = await session.execute(delete(receipts).where(receipts.c.received_at < cutoff))
    # No personal data, but no use either: an event older than the cutoff is long past the age limit for SMS.
    await session.execute(delete(dossier_steps).where(dossier_steps.c.updated_at < cutoff))
    return Purged(
        int(getattr(cleared, "rowcount", 0) or 0),
        int(getattr(removed_contacts, "rowcount", 0) or 0),
        int(getattr(removed_receipts, "rowcount", 0) or 0),
    )

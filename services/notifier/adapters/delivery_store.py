"""SQL of the dispatcher: claim due notifications, record what providers and receipts said, expire those
that never got a receipt, measure the queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.contracts.alerts import NotificationStatus as S
from services.notifier.adapters.sql import add_status_events, chunks, insert, status_event
from services.notifier.adapters.tables import contacts, notifications, opt_outs, receipts
from services.notifier.domain.sending import DeliveryReceipt, ReceiptStatus
from services.notifier.domain.statuses import AWAITING_CONTACT, AWAITING_RECEIPT, FINAL, RECEIPT_STATUS, receipt_applies

n = notifications.c


@dataclass(frozen=True)
class Claimed:
    id: str
    template_id: str
    dossier_code: str | None
    audience: str
    phone_encrypted: bytes | None
    text: str
    encoding: str
    segments: int
    attempts: int  # including the one being made


@dataclass(frozen=True)
class Change:
    """One status change to write: the row's new values and its status event."""

    id: str
    template_id: str
    dossier_code: str | None
    status: S
    values: dict[str, Any]
    reason: str | None = None
    provider: str | None = None


async def write_changes(session: AsyncSession, changes: Sequence[Change], at: datetime) -> None:
    """Apply the changes (one executemany per set of changed columns) and queue their status events."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        values = {**change.values, "status": change.status.value, "updated_at": at}
        if change.status in FINAL:
            values.setdefault("completed_at", at)
        groups.setdefault(tuple(sorted(values)), []).append(
            {"b_id": change.id, **{f"b_{name}": value for name, value in values.items()}}
        )
    for columns, parameters in groups.items():
        statement = (
            update(notifications)
            .where(n.id == bindparam("b_id"))
            .values({name: bindparam(f"b_{name}") for name in columns})
        )
        await session.execute(statement, parameters)
    await add_status_events(
        session,
        [
            status_event(
                c.id, c.template_id, c.status, at, dossier_code=c.dossier_code, reason=c.reason, provider=c.provider
            )
            for c in changes
        ],
    )


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, urgent_only: bool
) -> tuple[list[Claimed], list[Change]]:
    """Mark up to `limit` due notifications `sending`; those whose recipient opted out or withdrew consent
    since they were planned become `skipped` instead (opt-out always wins, even over a held message)."""
    query = select(n.id, n.template_id, n.dossier_code, n.audience, n.phone_encrypted, n.phone_hash, n.text)
    query = query.add_columns(n.encoding, n.segments, n.attempts)
    query = query.where(n.status == S.CREATED.value, n.send_after <= now)
    if urgent_only:
        query = query.where(n.urgent.is_(True))
    query = query.order_by(n.send_after, n.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(await session.execute(query))
    if not rows:
        return [], []
    hashes = sorted({row.phone_hash for row in rows if row.phone_hash})
    opted = set(
        (await session.execute(select(opt_outs.c.phone_hash).where(opt_outs.c.phone_hash.in_(hashes)))).scalars()
    )
    codes = sorted({row.dossier_code for row in rows if row.dossier_code and row.audience == "citizen"})
    consent_query = select(contacts.c.dossier_code, contacts.c.sms_consent).where(contacts.c.dossier_code.in_(codes))
    consent = {row.dossier_code: row.sms_consent for row in await session.execute(consent_query)}
    skipped: list[Change] = []
    to_send: dict[str, Any] = {}
    for row in rows:
        reason = None
        if row.phone_hash in opted:
            reason = "opted_out"
        elif row.audience == "citizen" and consent.get(row.dossier_code) is False:
            reason = "no_consent"
        if reason:
            values = {"reason": reason, "phone_encrypted": None, "text": None}
            skipped.append(Change(row.id, row.template_id, row.dossier_code, S.SKIPPED, values, reason))
        else:
            to_send[row.id] = row
    await write_changes(session, skipped, now)
    claimed: list[Claimed] = []
    for part in chunks(sorted(to_send)):
        statement = (
            update(notifications)
            .where(n.id.in_(part), n.status == S.CREATED.value)
            .values(status=S.SENDING.value, attempts=n.attempts + 1, updated_at=now)
            .returning(n.id)
        )
        for claimed_id in (await session.execute(statement)).scalars():
            row = to_send[claimed_id]
            claimed.append(
                Claimed(
                    row.id,
                    row.template_id,
                    row.dossier_code,
                    row.audience,
                    row.phone_encrypted,
                    row.text,
                    row.encoding,
                    row.segments,
                    row.attempts + 1,
                )
            )
    events = [status_event(c.id, c.template_id, S.SENDING, now, dossier_code=c.dossier_code) for c in claimed]
    await add_status_events(session, events)
    return claimed, skipped


async def store_receipts(session: AsyncSession, items: Sequence[DeliveryReceipt], at: datetime) -> None:
    """Upsert the receipts (the last one per provider reference wins: PostgreSQL refuses a key twice)."""
    latest = {(item.provider, item.provider_reference): item for item in items}
    rows = [
        {
            "provider": item.provider,
            "provider_reference": item.provider_reference,
            "status": item.status.value,
            "detail": (item.detail or "")[:500] or None,
            "received_at": at,
        }
        for item in latest.values()
    ]
    for part in chunks(rows):
        statement = insert(session, receipts)
        statement = statement.on_conflict_do_update(
            index_elements=["provider", "provider_reference"],
            set_={
                "status": statement.excluded.status,
                "detail": statement.excluded.detail,
                "received_at": statement.excluded.received_at,
            },
        )
        await session.execute(statement, list(part))


async def receipt_changes(session: AsyncSession, pairs: Sequence[tuple[str, str]]) -> list[Change]:
    """Status changes that stored receipts make to the notifications sent under (provider, reference)."""
    changes: list[Change] = []
    for part in chunks(list(pairs)):
        conditions = [and_(receipts.c.provider == p, receipts.c.provider_reference == r) for p, r in part]
        query = select(receipts, n.id, n.template_id, n.dossier_code, n.status.label("current")).join(
            notifications,
            and_(n.provider == receipts.c.provider, n.provider_reference == receipts.c.provider_reference),
        )
        for row in await session.execute(query.where(or_(*conditions))):
            receipt_status = ReceiptStatus(row.status)
            if not receipt_applies(S(row.current), receipt_status):
                continue
            status = RECEIPT_STATUS[receipt_status]
            values: dict[str, Any] = {"detail": row.detail}
            if status is S.DELIVERED:
                values["reason"] = None
            else:
                values["reason"] = "delivery_report"
            changes.append(
                Change(row.id, row.template_id, row.dossier_code, status, values, values["reason"], row.provider)
            )
    return changes


async def unanswered(session: AsyncSession, older_than: datetime, limit: int = 500) -> list[Change]:
    """`sending` / `sent` rows without a receipt since `older_than` -> temporary-failure (never resent)."""
    query = (
        select(n.id, n.template_id, n.dossier_code, n.provider)
        .where(n.status.in_([s.value for s in AWAITING_RECEIPT]), n.updated_at < older_than)
        .limit(limit)
    )
    return [
        Change(
            row.id,
            row.template_id,
            row.dossier_code,
            S.TEMPORARY_FAILURE,
            {"reason": "no_receipt"},
            "no_receipt",
            row.provider,
        )
        for row in await session.execute(query)
    ]


async def contact_never_came(session: AsyncSession, older_than: datetime, limit: int = 500) -> list[Change]:
    """Citizen messages that waited since `older_than` for a dossier contact that never arrived."""
    query = (
        select(n.id, n.template_id, n.dossier_code)
        .where(n.status == S.CREATED.value, n.reason == AWAITING_CONTACT, n.created_at < older_than)
        .limit(limit)
    )
    values = {"reason": "no_contact", "text": None}
    return [
        Change(row.id, row.template_id, row.dossier_code, S.SKIPPED, dict(values), "no_contact")
        for row in await session.execute(query)
    ]


async def unapplied_receipts(session: AsyncSession, limit: int = 500) -> list[tuple[str, str]]:
    """(provider, reference) of notifications still waiting although their receipt is stored."""
    query = (
        select(n.provider, n.provider_reference)
        .join(receipts, and_(n.provider == receipts.c.provider, n.provider_reference == receipts.c.provider_reference))
        .where(n.status.in_([s.value for s in AWAITING_RECEIPT]))
        .limit(limit)
    )
    return [(row.provider, row.provider_reference) for row in await session.execute(query)]


async def queue_depth(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Notifications waiting: due now, scheduled later (quiet hours, retry backoff), sending, awaiting receipt."""
    depth = {"due": 0, "scheduled": 0, "sending": 0, "awaiting_receipt": 0}
    created = S.CREATED.value
    due = func.sum(case((n.send_after <= now, 1), else_=0))
    query = select(n.status, func.count(), due).where(n.status.in_([created, S.SENDING.value, S.SENT.value]))
    for status, count, due_count in await session.execute(query.group_by(n.status)):
        if status == created:
            depth["due"] = int(due_count or 0)
            depth["scheduled"] = int(count) - depth["due"]
        elif status == S.SENDING.value:
            depth["sending"] = int(count)
        else:
            depth["awaiting_receipt"] = int(count)
    return depth

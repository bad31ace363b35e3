"""SQL of the dispatcher: write status changes (guarded by the transition table), read and mark the due
notifications a claim takes (the decision is `service_layer.claiming`), expire those that never got a
receipt, list unknown outcomes for review, measure the queue. Receipts: `receipt_store`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.contracts.alerts import NotificationStatus as S
from services.notifier.adapters.sql import add_status_events, chunks, status_event
from services.notifier.adapters.tables import notifications
from services.notifier.domain.statuses import (
    AWAITING_CONTACT,
    FINAL,
    NEEDS_REVIEW,
    ensure_transition,
    sources_of,
    transition_allowed,
)
from services.notifier.service_layer.messages import Change, Due

logger = logging.getLogger("dvc_pulse.notifier")
n = notifications.c


def _may_enter(new: S) -> list[str]:
    """The statuses a row may be in to enter `new`, from the transition table (the guard of an UPDATE)."""
    return sorted(status.value for status in sources_of(new))


async def _current_statuses(session: AsyncSession, ids: Sequence[str]) -> dict[str, S]:
    """The rows' statuses, locked on PostgreSQL (in id order) so that the guard below decides on them."""
    found: dict[str, S] = {}
    for part in chunks(sorted(set(ids))):
        query = select(n.id, n.status).where(n.id.in_(part)).order_by(n.id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        found.update((row.id, S(row.status)) for row in await session.execute(query))
    return found


async def write_changes(session: AsyncSession, changes: Sequence[Change], at: datetime) -> list[Change]:
    """Apply the changes the transition table allows (one executemany per set of changed columns) and queue
    their status events; returns the changes applied. A change from a status that may not enter the new one
    (a receipt for a message already final, a superseded message the dispatcher claimed meanwhile) is dropped,
    and the UPDATE itself is guarded by the allowed source statuses."""
    if not changes:
        return []
    current = await _current_statuses(session, [change.id for change in changes])
    applied: list[Change] = []
    for change in changes:
        status = current.get(change.id)
        if status is None or not transition_allowed(status, change.status):
            logger.info("status change refused: %s %s -> %s", change.id, status, change.status.value)
            continue
        current[change.id] = change.status
        applied.append(change)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in applied:
        values = {**change.values, "status": change.status.value, "updated_at": at}
        if change.status in FINAL:
            values.setdefault("completed_at", at)
        groups.setdefault((change.status.value, *sorted(values)), []).append(
            {"b_id": change.id, **{f"b_{name}": value for name, value in values.items()}}
        )
    for (target, *columns), parameters in groups.items():
        # no IN (...): an expanding parameter cannot take part in an executemany
        guard = or_(*(n.status == source.value for source in sorted(sources_of(S(target)))))
        statement = (
            update(notifications)
            .where(n.id == bindparam("b_id"), guard)
            .values({name: bindparam(f"b_{name}") for name in columns})
        )
        await session.execute(statement, parameters)
    await add_status_events(
        session,
        [
            status_event(
                c.id, c.template_id, c.status, at, dossier_code=c.dossier_code, reason=c.reason, provider=c.provider
            )
            for c in applied
        ],
    )
    return applied


def _due(row: Any) -> Due:
    return Due(
        row.id,
        row.template_id,
        row.dossier_code,
        row.audience,
        row.phone_encrypted,
        row.phone_hash,
        row.text,
        row.encoding,
        row.segments,
        row.attempts,
        row.event_kind,
        row.event_time,
    )


async def due_for_claim(session: AsyncSession, now: datetime, limit: int, urgent_only: bool) -> list[Due]:
    """Up to `limit` due notifications, oldest first, locked for this transaction (see `claiming.claim_due`)."""
    query = select(n.id, n.template_id, n.dossier_code, n.audience, n.phone_encrypted, n.phone_hash, n.text)
    query = query.add_columns(n.encoding, n.segments, n.attempts, n.event_kind, n.event_time)
    query = query.where(n.status.in_(_may_enter(S.SENDING)), n.send_after <= now)
    if urgent_only:
        query = query.where(n.urgent.is_(True))
    query = query.order_by(n.send_after, n.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [_due(row) for row in await session.execute(query)]


async def mark_sending(session: AsyncSession, due: Sequence[Due], now: datetime) -> list[str]:
    """The claim's UPDATE: these due notifications become `sending`, one more attempt each."""
    by_id = {row.id: row for row in due}
    moved: list[str] = []
    for part in chunks(sorted(by_id)):
        statement = (
            update(notifications)
            .where(n.id.in_(part), n.status.in_(_may_enter(S.SENDING)))
            .values(status=S.SENDING.value, attempts=n.attempts + 1, updated_at=now)
            .returning(n.id)
        )
        moved += (await session.execute(statement)).scalars()
    events = [
        status_event(key, by_id[key].template_id, S.SENDING, now, dossier_code=by_id[key].dossier_code) for key in moved
    ]
    await add_status_events(session, events)
    return moved


async def unanswered(session: AsyncSession, older_than: datetime, limit: int = 500) -> list[Change]:
    """`sent` rows without a receipt since `older_than` -> temporary-failure (never resent)."""
    query = (
        select(n.id, n.template_id, n.dossier_code, n.provider)
        .where(n.status == S.SENT.value, n.updated_at < older_than)
        .limit(limit)
    )
    values = {"reason": "no_receipt"}
    expired = ensure_transition(S.SENT, S.TEMPORARY_FAILURE)
    return [
        Change(row.id, row.template_id, row.dossier_code, expired, dict(values), "no_receipt", row.provider)
        for row in await session.execute(query)
    ]


async def stuck_sending(session: AsyncSession, older_than: datetime, limit: int = 500) -> list[Change]:
    """`sending` rows with no provider answer recorded since `older_than` (the notifier stopped while sending):
    the provider may have them -> unknown, never resent."""
    query = (
        select(n.id, n.template_id, n.dossier_code)
        .where(n.status == S.SENDING.value, n.updated_at < older_than)
        .limit(limit)
    )
    values = {"reason": "no_send_result"}
    unknown = ensure_transition(S.SENDING, S.UNKNOWN)
    return [
        Change(row.id, row.template_id, row.dossier_code, unknown, dict(values), "no_send_result")
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
    skipped = ensure_transition(S.CREATED, S.SKIPPED)
    return [
        Change(row.id, row.template_id, row.dossier_code, skipped, dict(values), "no_contact")
        for row in await session.execute(query)
    ]


async def unknown_overdue(session: AsyncSession, older_than: datetime, limit: int = 500) -> list[Change]:
    """`unknown` messages no receipt settled since `older_than`: listed for the operator (reason needs_review),
    still `unknown` (a late receipt settles them), never resent."""
    query = (
        select(n.id, n.template_id, n.dossier_code, n.provider)
        .where(n.status == S.UNKNOWN.value, n.updated_at < older_than)
        .where(or_(n.reason.is_(None), n.reason != NEEDS_REVIEW))
        .limit(limit)
    )
    values = {"reason": NEEDS_REVIEW}
    listed = ensure_transition(S.UNKNOWN, S.UNKNOWN)
    return [
        Change(row.id, row.template_id, row.dossier_code, listed, dict(values), NEEDS_REVIEW, row.provider)
        for row in await session.execute(query)
    ]


async def queue_depth(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Notifications waiting: due now, scheduled later (quiet hours, retry backoff), sending, awaiting receipt,
    outcome unknown (awaiting a receipt that settles it) and unknown past the review window (needs_review)."""
    depth = {"due": 0, "scheduled": 0, "sending": 0, "awaiting_receipt": 0, "unknown": 0, "needs_review": 0}
    created = S.CREATED.value
    due = func.sum(case((n.send_after <= now, 1), else_=0))
    review = func.sum(case((n.reason == NEEDS_REVIEW, 1), else_=0))
    waiting = [created, S.SENDING.value, S.SENT.value, S.UNKNOWN.value]
    query = select(n.status, func.count(), due, review).where(n.status.in_(waiting))
    for status, count, due_count, review_count in await session.execute(query.group_by(n.status)):
        if status == created:
            depth["due"] = int(due_count or 0)
            depth["scheduled"] = int(count) - depth["due"]
        elif status == S.SENDING.value:
            depth["sending"] = int(count)
        elif status == S.SENT.value:
            depth["awaiting_receipt"] = int(count)
        else:
            depth["needs_review"] = int(review_count or 0)
            depth["unknown"] = int(count) - depth["needs_review"]
    return depth

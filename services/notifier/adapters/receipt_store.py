"""SQL of delivery receipts: store them, and find the notifications they settle.

A receipt names the provider and a reference: the provider's id for the message (SMSC message id, gateway
SMSID) or our notification id (the `{reference}` the HTTP provider sends, which gateways quote back). Both
match, so a message whose answer was lost (`unknown`: no provider id recorded) is still settled by a receipt
that quotes our id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.contracts.alerts import NotificationStatus as S
from services.notifier.adapters.sql import chunks, insert
from services.notifier.adapters.tables import notifications, receipts
from services.notifier.domain.sending import DeliveryReceipt, ReceiptStatus
from services.notifier.domain.statuses import AWAITING_RECEIPT, RECEIPT_STATUS, receipt_applies
from services.notifier.service_layer.messages import Change

n = notifications.c
r = receipts.c
_BY_REFERENCE = and_(n.provider == r.provider, n.provider_reference == r.provider_reference)
_BY_ID = and_(n.provider == r.provider, n.id == r.provider_reference)
_WAITING = [status.value for status in (*AWAITING_RECEIPT, S.UNKNOWN)]


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


def _change(row: Any) -> Change | None:
    receipt_status = ReceiptStatus(row.status)
    if not receipt_applies(S(row.current), receipt_status):
        return None
    status = RECEIPT_STATUS[receipt_status]
    reason = None if status is S.DELIVERED else "delivery_report"
    values: dict[str, Any] = {"detail": row.detail, "reason": reason}
    return Change(row.id, row.template_id, row.dossier_code, status, values, reason, row.provider)


async def receipt_changes(session: AsyncSession, pairs: Sequence[tuple[str, str]]) -> list[Change]:
    """Status changes that stored receipts make to the notifications sent under (provider, reference)."""
    changes: dict[str, Change] = {}
    columns = (receipts, n.id, n.template_id, n.dossier_code, n.status.label("current"))
    for part in chunks(sorted(set(pairs))):
        wanted = or_(*(and_(r.provider == p, r.provider_reference == ref) for p, ref in part))
        for match in (_BY_REFERENCE, _BY_ID):
            query = select(*columns).join(notifications, match).where(wanted)
            for row in await session.execute(query):
                change = _change(row)
                if change is not None:
                    changes.setdefault(change.id, change)
    return list(changes.values())


async def unapplied_receipts(session: AsyncSession, limit: int = 500) -> list[tuple[str, str]]:
    """(provider, reference) of notifications still waiting although their receipt is stored."""
    found: set[tuple[str, str]] = set()
    for match in (_BY_REFERENCE, _BY_ID):
        query = select(r.provider, r.provider_reference).join(notifications, match).where(n.status.in_(_WAITING))
        found.update((row.provider, row.provider_reference) for row in await session.execute(query.limit(limit)))
    return sorted(found)

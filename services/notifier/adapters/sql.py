"""SQL helpers shared by the notifier's stores: dialect-specific INSERT, status-event outbox rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from services.contracts.alerts import NotificationStatus, NotificationStatusChanged
from services.notifier.adapters.tables import status_outbox
from services.runtime.db import conflict_insert


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert(session: AsyncSession, table: Table) -> Any:
    """`INSERT` with `ON CONFLICT` support for the session's backend (PostgreSQL or SQLite)."""
    return conflict_insert(dialect_of(session), table)


def chunks(items: Sequence[Any], size: int = 500) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def status_event(
    notification_id: str,
    template: str,
    status: NotificationStatus,
    at: datetime,
    *,
    dossier_code: str | None = None,
    provider: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """An outbox row for `dvc.notify.status.<status>` (no phone number: the contract has no field for one)."""
    message = NotificationStatusChanged(
        notification_id=notification_id,
        dossier_code=dossier_code,
        template=template,
        status=status,
        provider=provider,
        reason=reason,
        changed_at=at,
    )
    return {
        "notification_id": notification_id,
        "status": status.value,
        "payload": message.model_dump_json(exclude_none=True).encode("utf-8"),
        "created_at": at,
    }


_ADD_STATUS_EVENTS = status_outbox.insert()


async def add_status_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(_ADD_STATUS_EVENTS, list(rows))

"""How many notifications a provider accepted, read from the store: the total `make up`'s status line shows,
which a restart does not reset (the purge, after the retention period, does remove the oldest)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.adapters.tables import notifications


async def sent_total(session: AsyncSession) -> int:
    """Notifications with a send time: accepted by a provider, whatever their delivery became since."""
    query = select(func.count()).select_from(notifications).where(notifications.c.sent_at.is_not(None))
    return int((await session.execute(query)).scalar_one())

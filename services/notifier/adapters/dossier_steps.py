"""SQL of dossier steps (the latest event time of each kind per dossier) and of the messages a newer step may
supersede (the rule: `service_layer.steps`). Used by the intake (when the newer event arrives, in its
transaction) and by the dispatcher (when it claims a message, the state at the moment of sending)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.contracts.alerts import NotificationStatus as S
from services.notifier.adapters.sql import chunks, insert
from services.notifier.adapters.tables import dossier_steps, notifications
from services.notifier.domain.superseding import SUPERSEDED_BY
from services.notifier.service_layer.messages import Step, Waiting

Steps = dict[str, dict[str, datetime]]  # dossier code -> event kind -> latest event time

n = notifications.c


async def record_steps(session: AsyncSession, steps: Sequence[Step], at: datetime) -> None:
    """Keep the latest time of each (dossier, kind); an older event arriving late changes nothing."""
    latest: dict[tuple[str, str], datetime] = {}
    for step in steps:
        key = (step.dossier_code, step.kind)
        if key not in latest or step.time > latest[key]:
            latest[key] = step.time
    rows = [
        {"dossier_code": code, "kind": kind, "event_time": time, "updated_at": at}
        for (code, kind), time in sorted(latest.items())
    ]
    for part in chunks(rows):
        statement = insert(session, dossier_steps)
        statement = statement.on_conflict_do_update(
            index_elements=["dossier_code", "kind"],
            set_={"event_time": statement.excluded.event_time, "updated_at": statement.excluded.updated_at},
            where=dossier_steps.c.event_time < statement.excluded.event_time,
        )
        await session.execute(statement, list(part))


async def load_steps(session: AsyncSession, codes: Iterable[str]) -> Steps:
    found: Steps = {}
    query = select(dossier_steps.c.dossier_code, dossier_steps.c.kind, dossier_steps.c.event_time)
    for part in chunks(sorted(set(codes))):
        for row in await session.execute(query.where(dossier_steps.c.dossier_code.in_(part))):
            found.setdefault(row.dossier_code, {})[row.kind] = row.event_time
    return found


async def waiting_messages(session: AsyncSession, codes: Iterable[str]) -> list[Waiting]:
    """`created` messages of these dossiers whose event kind some newer step can supersede."""
    kinds = sorted(SUPERSEDED_BY)
    query = select(n.id, n.template_id, n.dossier_code, n.event_kind, n.event_time).where(
        n.status == S.CREATED.value, n.event_kind.in_(kinds)
    )
    found: list[Waiting] = []
    for part in chunks(sorted(set(codes))):
        for row in await session.execute(query.where(n.dossier_code.in_(part)).order_by(n.id)):
            found.append(Waiting(row.id, row.template_id, row.dossier_code, row.event_kind, row.event_time))
    return found

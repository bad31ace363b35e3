"""SQL of dossier steps (the latest event time of each kind per dossier) and of the messages a newer step may
supersede (the rule: `service_layer.steps`). Used by the intake (when the newer event arrives, in its
transaction) and by the dispatcher (when it claims a message, the state at the moment of sending)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from services.contracts.alerts import NotificationStatus as S
from services.notifier.adapters.sql import chunks, dialect_of
from services.notifier.adapters.tables import dossier_steps, notifications
from services.notifier.domain.superseding import SUPERSEDED_BY
from services.notifier.service_layer.messages import Step, Waiting
from services.runtime.db import conflict_insert

Steps = dict[str, dict[str, datetime]]  # dossier code -> event kind -> latest event time

n = notifications.c


@cache
def _record_steps(dialect: str) -> Any:
    statement = conflict_insert(dialect, dossier_steps)
    return statement.on_conflict_do_update(
        index_elements=["dossier_code", "kind"],
        set_={"event_time": statement.excluded.event_time, "updated_at": statement.excluded.updated_at},
        where=dossier_steps.c.event_time < statement.excluded.event_time,
    )


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
    statement = _record_steps(dialect_of(session))
    for part in chunks(rows):
        await session.execute(statement, list(part))


# Built once, run with bound parameters (see intake_store).
_CODES: BindParameter[list[str]] = bindparam("codes", expanding=True)
_LOAD_STEPS = select(dossier_steps.c.dossier_code, dossier_steps.c.kind, dossier_steps.c.event_time).where(
    dossier_steps.c.dossier_code.in_(_CODES)
)
_WAITING = (
    select(n.id, n.template_id, n.dossier_code, n.event_kind, n.event_time)
    .where(n.status == S.CREATED.value, n.event_kind.in_(sorted(SUPERSEDED_BY)), n.dossier_code.in_(_CODES))
    .order_by(n.id)
)


async def load_steps(session: AsyncSession, codes: Iterable[str]) -> Steps:
    found: Steps = {}
    for part in chunks(sorted(set(codes))):
        for row in await session.execute(_LOAD_STEPS, {"codes": list(part)}):
            found.setdefault(row.dossier_code, {})[row.kind] = row.event_time
    return found


async def waiting_messages(session: AsyncSession, codes: Iterable[str]) -> list[Waiting]:
    """`created` messages of these dossiers whose event kind some newer step can supersede."""
    found: list[Waiting] = []
    for part in chunks(sorted(set(codes))):
        for row in await session.execute(_WAITING, {"codes": list(part)}):
            found.append(Waiting(row.id, row.template_id, row.dossier_code, row.event_kind, row.event_time))
    return found

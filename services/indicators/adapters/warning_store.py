"""SQL side of the early warning: training dossiers, raised alert ids, the alert outbox and its queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.indicators.adapters.indicator_counts import scope_conditions
from services.indicators.adapters.tables import Tables
from services.indicators.adapters.warning_tables import ALERTS
from services.indicators.domain.indicators import Scope
from services.indicators.domain.warning import DossierAlert
from services.indicators.service_layer.warning_ports import PendingAlert

CHUNK = 500


@dataclass(frozen=True)
class AlertRow:
    alert_id: str
    kind: str
    dossier_code: str
    procedure_code: str
    agency: str
    officer: str | None
    due_at: datetime
    risk: float | None
    basis: str | None
    sample_size: int | None
    raised_at: datetime
    published_at: datetime | None


async def raised_ids(connection: AsyncConnection, dossier_codes: Iterable[str]) -> set[str]:
    """Ids of the alerts already raised for these dossiers."""
    codes = sorted(set(dossier_codes))
    found: set[str] = set()
    for start in range(0, len(codes), CHUNK):
        query = select(ALERTS.c.alert_id).where(ALERTS.c.dossier_code.in_(codes[start : start + CHUNK]))
        found.update(str(value) for value in (await connection.execute(query)).scalars())
    return found


def _row(alert: DossierAlert, payload: bytes) -> dict[str, Any]:
    risk = alert.risk
    return {
        "alert_id": alert.alert_id,
        "kind": alert.kind.value,
        "dossier_code": alert.dossier_code,
        "procedure_code": alert.procedure_code,
        "agency": alert.agency,
        "officer": alert.officer,
        "due_at": alert.due_at,
        "risk": None if risk is None else risk.probability,
        "basis": None if risk is None else risk.basis.value,
        "sample_size": None if risk is None else risk.sample_size,
        "raised_at": alert.raised_at,
        "published_at": None,
        "payload": payload,
    }


async def record_alerts(session: AsyncSession, alerts: Sequence[DossierAlert]) -> None:
    """Insert the alerts; an id already present (a concurrent sweep) is left as it is."""
    if not alerts:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [_row(alert, alert.message().model_dump_json().encode()) for alert in alerts]
    for start in range(0, len(rows), CHUNK):
        statement = insert(ALERTS).on_conflict_do_nothing(index_elements=["alert_id"])
        await session.execute(statement, rows[start : start + CHUNK])


async def pending(connection: AsyncConnection, limit: int) -> list[PendingAlert]:
    c = ALERTS.c
    query = select(c.alert_id, c.kind, c.payload).where(c.published_at.is_(None)).order_by(c.raised_at, c.alert_id)
    rows = await connection.execute(query.limit(limit))
    return [PendingAlert(str(alert_id), str(kind), bytes(payload)) for alert_id, kind, payload in rows]


async def mark_published(session: AsyncSession, alert_ids: Sequence[str], at: datetime) -> None:
    for start in range(0, len(alert_ids), CHUNK):
        chunk = list(alert_ids[start : start + CHUNK])
        statement = update(ALERTS).where(ALERTS.c.alert_id.in_(chunk), ALERTS.c.published_at.is_(None))
        await session.execute(statement.values(published_at=at))


async def alerts(
    connection: AsyncConnection,
    tables: Tables,
    *,
    kind: str | None,
    scope: Scope,
    since: datetime | None,
    limit: int,
) -> list[AlertRow]:
    """Most recent first; `scope` narrows by agency, procedure and the procedure's field."""
    c = ALERTS.c
    conditions = scope_conditions(tables, scope, c.agency, c.procedure_code)
    if kind is not None:
        conditions.append(c.kind == kind)
    if since is not None:
        conditions.append(c.raised_at >= since)
    columns = [column for column in ALERTS.c if column.name != "payload"]
    query = select(*columns).where(*conditions).order_by(c.raised_at.desc(), c.alert_id).limit(limit)
    return [AlertRow(**row) for row in (await connection.execute(query)).mappings()]


async def alert_counts(connection: AsyncConnection) -> tuple[dict[str, int], int]:
    """Alerts raised so far by kind, and how many are not yet acknowledged by JetStream."""
    c = ALERTS.c
    by_kind = {str(kind): int(n) for kind, n in await connection.execute(select(c.kind, func.count()).group_by(c.kind))}
    unpublished = (await connection.execute(select(func.count()).where(c.published_at.is_(None)))).scalar_one()
    return by_kind, int(unpublished)

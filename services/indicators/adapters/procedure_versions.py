"""Procedure settings as they were: every `procedure.published` is a version valid from its event time.

The catalogue indicators (I15, I16, I19) of a period read each procedure's version in force at the period's
end; I21 reads the level in force when each dossier was accepted (the first version for a dossier accepted
before any publication). The newest version is the one with the greatest `version_key` (the event's
`utc_key_text`: time, then type, source and id), so any arrival order gives the same answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.adapters.tables import Tables
from services.indicators.domain.catalog import ProcedureState


async def record_versions(session: AsyncSession, insert: Any, versions: Sequence[ProcedureState]) -> None:
    """Insert each version once (`insert`: the dialect's INSERT on the versions table)."""
    rows = [
        {
            "procedure_code": version.procedure_code,
            "version_key": version.last_event_key,
            "valid_from": version.published_at,
            "field": version.field,
            "level": version.level,
            "eligible_full_online": version.eligible_full_online,
            "boundary_free": version.boundary_free,
            "business_related": version.business_related,
        }
        for version in versions
    ]
    await session.execute(insert.on_conflict_do_nothing(), rows)


def in_force(tables: Tables, at: datetime, *columns: ColumnElement[Any]) -> Select[Any]:
    """`columns` (of the versions table) of each procedure's version in force just before `at`."""
    version = tables.procedure_versions
    newer = version.alias("newer")
    superseded = exists().where(
        newer.c.procedure_code == version.c.procedure_code,
        newer.c.valid_from < at,
        newer.c.version_key > version.c.version_key,
    )
    return select(*columns).where(version.c.valid_from < at, ~superseded)


def level_at_acceptance(tables: Tables) -> ColumnElement[Any]:
    """The procedure level in force when the dossier (a row of `dossiers`) was accepted; NULL if unknown."""
    d, v = tables.dossiers.c, tables.procedure_versions.c
    same = v.procedure_code == d.procedure_code
    then = select(v.level).where(same, v.valid_from <= d.accepted_at).order_by(v.version_key.desc()).limit(1)
    first = select(v.level).where(same).order_by(v.version_key).limit(1)
    return func.coalesce(then.scalar_subquery(), first.scalar_subquery())

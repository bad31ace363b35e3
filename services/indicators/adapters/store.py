"""SQL repositories of the projections (the ports of `service_layer.unit_of_work`), in the caller's session.

Events are recorded with `ON CONFLICT DO NOTHING RETURNING`; rows are upserted once per key per statement
(PostgreSQL raises CardinalityViolation otherwise). Statements go through SQLAlchemy's executemany paths,
which page rows below the 32,767-parameter limit.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.adapters import fastsql
from services.indicators.adapters.changed_columns import ColumnUpdates
from services.indicators.adapters.procedure_versions import record_versions
from services.indicators.adapters.state_cache import StateCache, Token
from services.indicators.adapters.tables import Tables
from services.indicators.domain.catalog import DocumentState, FeedbackState, ProcedureState
from services.indicators.domain.dossier import DossierEvent, DossierState, DossierStatus
from services.indicators.domain.stream_position import StreamPosition
from services.indicators.service_layer.messages import Incoming
from services.indicators.service_layer.unit_of_work import Identity
from services.runtime.db import conflict_insert

CHUNK = 1000
APPLY_LOCK_ID = 7_342_001  # PostgreSQL advisory lock serialising writers of the projections (consumer, rebuild)
DOSSIER_COLUMNS = tuple(DossierState.__dataclass_fields__)
SHARED_TEXT_COLUMNS = (
    "procedure_code",
    "agency",
    "receiving_agency",
    "officer",
    "channel",
    "applicant_kind",
    "open_pauses",
    "delivery",
    "end_kind",
    "last_anomaly",
)


async def lock_projections(session: AsyncSession, partition: str | None = None) -> None:
    """Serialise projection writers for the rest of the transaction (SQLite serialises writers itself).
    A `partition` takes the lock shared (partitions never write the same rows, but never run beside a rebuild)
    and its own one exclusive (two replicas given the same partition by mistake take turns)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if partition is None:
        await session.execute(text(f"SELECT pg_advisory_xact_lock({APPLY_LOCK_ID})"))
    else:
        statement = f"SELECT pg_advisory_xact_lock_shared({APPLY_LOCK_ID}), pg_advisory_xact_lock(hashtext(:partition))"
        await session.execute(text(statement), {"partition": partition})


def row_to_state(row: Any) -> DossierState:
    values = {name: row[name] for name in DOSSIER_COLUMNS}
    values["status"] = DossierStatus(values["status"])
    return DossierState(**values)


class DossierRecords:
    """Driver records of the dossiers table -> states. The texts that repeat across dossiers (codes of
    procedures and agencies, officers, channels, kinds) are interned: each state read stays in the cache, and
    a fresh copy of every such text per state was most of its size after the state object itself."""

    def __init__(self, raw: fastsql.RawTable) -> None:
        self.raw = raw
        columns = raw.columns
        self.in_field_order = itemgetter(*(columns.index(name) for name in DOSSIER_COLUMNS))
        self.status_index = columns.index("status")
        self.shared_text = [columns.index(name) for name in SHARED_TEXT_COLUMNS]

    def state(self, record: Sequence[Any]) -> DossierState:
        values = self.raw.values_from_db(record)
        values[self.status_index] = DossierStatus(values[self.status_index])
        for index in self.shared_text:
            text = values[index]
            if text is not None:
                values[index] = sys.intern(text)
        return DossierState(*self.in_field_order(values))


def _event_row(raw: fastsql.RawTable, item: Incoming) -> tuple[Any, ...]:
    """`raw.to_db` of the event's row, built in column order: source, id, kind, subject_key, type, time, data."""
    projected = item.projected
    data: dict[str, Any] | None = None
    if isinstance(projected, DossierEvent):
        kind, key, event_type, time = "dossier", projected.dossier_code, projected.type, projected.time
        data = projected.data if type(projected.data) is dict else dict(projected.data)
    elif isinstance(projected, ProcedureState):
        kind, key, event_type, time = (
            "procedure",
            projected.procedure_code,
            "procedure.published",
            projected.published_at,
        )
    elif isinstance(projected, DocumentState):
        kind, key, event_type, time = "document", projected.document_id, "document.completed", projected.completed_at
    else:
        kind, key, event_type, time = "feedback", projected.dossier_code, "feedback.submitted", projected.submitted_at
    return (item.source, item.id, kind, key, event_type, raw.value_to_db(5, time), raw.value_to_db(6, data))


class SqlProjections:
    """What the repositories keep across units of work: the tables, prepared SQL and the state cache."""

    def __init__(self, tables: Tables, dialect: str, cache_limit: int = 50_000) -> None:
        self.cache = StateCache(cache_limit)
        self.tables = tables
        self.dialect = dialect
        self.raw_events = fastsql.RawTable(tables.events, dialect)
        self.raw_dossiers = fastsql.RawTable(tables.dossiers, dialect)
        self.dossier_records = DossierRecords(self.raw_dossiers)
        self.upsert_dossiers = self.raw_dossiers.upsert_sql(["dossier_code"])
        self.dossier_updates = ColumnUpdates(self.raw_dossiers, "dossier_code")
        self.partition: str | None = None  # services.indicators.bootstrap_partitions

    def insert(self, table: Table) -> Any:
        return conflict_insert(self.dialect, table)

    def upsert(self, table: Table, keys: Sequence[str]) -> Any:
        statement = self.insert(table)
        updates = {column.name: statement.excluded[column.name] for column in table.columns if column.name not in keys}
        return statement.on_conflict_do_update(index_elements=list(keys), set_=updates)


class SqlEventLog:
    def __init__(self, session: AsyncSession, projections: SqlProjections) -> None:
        self.session = session
        self.projections = projections

    async def record_new(self, items: Sequence[Incoming]) -> set[Identity]:
        raw = self.projections.raw_events
        rows = [_event_row(raw, item) for item in items]
        inserted = await fastsql.insert_new(self.session, raw, ["source", "id"], rows)
        return {(source, event_id) for source, event_id in inserted}

    async def dossier_history(self, codes: Sequence[str]) -> dict[str, list[DossierEvent]]:
        table = self.projections.tables.events
        history: dict[str, list[DossierEvent]] = defaultdict(list)
        for chunk in fastsql.chunks(codes, CHUNK):
            query = select(table.c.source, table.c.id, table.c.type, table.c.time, table.c.subject_key, table.c.data)
            query = query.where(table.c.kind == "dossier", table.c.subject_key.in_(chunk))
            for row in await self.session.execute(query):
                history[row.subject_key].append(
                    DossierEvent(row.source, row.id, row.type, row.time, row.subject_key, row.data or {})
                )
        return history


class SqlDossiers:
    """States come from the cache when it is trusted (`use_cache`), else from the table. On SQLite, rows
    read in this unit of work get only their changed columns; PostgreSQL's COPY of whole rows measured ~8%
    faster."""

    def __init__(self, session: AsyncSession, projections: SqlProjections) -> None:
        self.session = session
        self.projections = projections
        self.use_cache = False
        self.saved: list[DossierState] = []
        self._before: dict[str, tuple[Any, ...]] = {}

    async def get_many(self, codes: Sequence[str]) -> dict[str, DossierState]:
        raw, records, cache = self.projections.raw_dossiers, self.projections.dossier_records, self.projections.cache
        current: dict[str, DossierState] = {}
        missing = []
        for code in codes:
            cached = cache.take(code) if self.use_cache else None
            if cached is None:
                missing.append(code)
            else:
                current[code] = cached
        for chunk in fastsql.chunks(missing, CHUNK):
            sql, parameters = raw.select_in_sql("dossier_code", len(chunk)), raw.select_in_parameters(chunk)
            for record in await fastsql.fetch(self.session, sql, parameters):
                state = records.state(record)
                current[state.dossier_code] = state
        if raw.sqlite:
            values_of = raw.values_of
            self._before.update((code, values_of(state)) for code, state in current.items())
        return current

    async def save(self, states: Sequence[DossierState]) -> None:
        raw, before = self.projections.raw_dossiers, self._before
        values_of = raw.values_of
        changes = [(before[state.dossier_code], values_of(state)) for state in states if state.dossier_code in before]
        whole = [raw.object_to_db(state) for state in states if state.dossier_code not in before]
        if changes:
            await self.projections.dossier_updates.write(self.session, changes)
        await fastsql.upsert(self.session, raw, self.projections.upsert_dossiers, whole)
        self.saved.extend(states)


class SqlCatalog:
    def __init__(self, session: AsyncSession, projections: SqlProjections) -> None:
        self.session = session
        self.projections = projections
        self.tables = projections.tables

    async def procedures(self, codes: Sequence[str]) -> dict[str, ProcedureState]:
        table = self.tables.procedures
        result = await self.session.execute(select(table).where(table.c.procedure_code.in_(list(codes))))
        return {row["procedure_code"]: ProcedureState(**row) for row in result.mappings()}

    async def save_procedures(self, states: Sequence[ProcedureState]) -> None:
        await self._upsert(self.tables.procedures, "procedure_code", states)

    async def record_versions(self, versions: Sequence[ProcedureState]) -> None:
        await record_versions(self.session, self.projections.insert(self.tables.procedure_versions), versions)

    async def document_keys(self, document_ids: Sequence[str]) -> dict[str, str]:
        return await self._keys(self.tables.documents, "document_id", document_ids)

    async def save_documents(self, states: Sequence[DocumentState]) -> None:
        await self._upsert(self.tables.documents, "document_id", states)

    async def feedback_keys(self, dossier_codes: Sequence[str]) -> dict[str, str]:
        return await self._keys(self.tables.feedback, "dossier_code", dossier_codes)

    async def save_feedback(self, states: Sequence[FeedbackState]) -> None:
        await self._upsert(self.tables.feedback, "dossier_code", states)

    async def _keys(self, table: Table, key: str, values: Sequence[str]) -> dict[str, str]:
        query = select(table.c[key], table.c.last_event_key).where(table.c[key].in_(list(values)))
        return {code: stored_key for code, stored_key in (await self.session.execute(query)).all()}

    async def _upsert(self, table: Table, key: str, states: Sequence[Any]) -> None:
        await self.session.execute(self.projections.upsert(table, [key]), [_as_row(state) for state in states])


class SqlPositions:
    """Reading the position tells the state cache whether another writer came in between (`on_read`)."""

    def __init__(
        self, session: AsyncSession, projections: SqlProjections, on_read: Callable[[StreamPosition | None], None]
    ) -> None:
        self.session = session
        self.table = projections.tables.consumer_state
        self.upsert = projections.upsert(self.table, ["consumer"])
        self.on_read = on_read
        self.written: Token | None = None

    async def get(self, consumer: str) -> StreamPosition | None:
        table = self.table
        row = (await self.session.execute(select(table).where(table.c.consumer == consumer))).mappings().first()
        position = None if row is None else StreamPosition(**row)
        self.on_read(position)
        return position

    async def save(self, position: StreamPosition) -> None:
        await self.session.execute(self.upsert, [_as_row(position)])
        self.written = token(position)


def token(position: StreamPosition) -> Token:
    """What a writer left in the consumer-state row; equal only if nobody else wrote since."""
    return (position.stream_sequence, position.events_applied, position.updated_at)


def _as_row(state: Any) -> dict[str, Any]:
    return {name: getattr(state, name) for name in state.__dataclass_fields__}

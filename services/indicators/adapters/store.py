"""Apply a batch of events to the projections inside the caller's transaction (design §7).

One call: insert every (source, id) not yet recorded (`ON CONFLICT DO NOTHING RETURNING`, so a redelivered
or re-sent event changes nothing), fold the new events per key, upsert one row per key (never the same
key twice in a statement: PostgreSQL raises CardinalityViolation), store the stream position.
Statements go through SQLAlchemy's executemany paths, which page rows below the 32,767-parameter limit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.adapters import fastsql
from services.indicators.adapters.changed_columns import ColumnUpdates
from services.indicators.adapters.procedure_versions import record_versions
from services.indicators.adapters.state_cache import StateCache, Token
from services.indicators.adapters.tables import Tables
from services.indicators.domain.calendar import WorkingClock
from services.indicators.domain.catalog import DocumentState, FeedbackState, ProcedureState, latest, merge_procedure
from services.indicators.domain.dossier import DossierEvent, DossierState, DossierStatus, apply_event, fold, follows
from services.indicators.domain.events import ProjectedEvent

CHUNK = 1000
APPLY_LOCK_ID = 7_342_001  # PostgreSQL advisory lock serialising writers of the projections (consumer, rebuild)
DOSSIER_COLUMNS = tuple(name for name in DossierState.__dataclass_fields__ if name != "pause_kinds")


@dataclass(frozen=True, slots=True)
class Incoming:
    """A decoded event with its identity and, when it came from the stream, its sequence."""

    source: str
    id: str
    projected: ProjectedEvent
    sequence: int | None = None


@dataclass
class AppliedBatch:
    received: int = 0
    new_events: int = 0
    dossier_codes: list[str] = field(default_factory=list)
    refolded: int = 0
    last_sequence: int | None = None
    states: list[DossierState] = field(default_factory=list, repr=False)
    token: Token | None = None


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


class ProjectionStore:
    def __init__(self, tables: Tables, dialect: str, clock: WorkingClock, cache_limit: int = 50_000) -> None:
        self.cache = StateCache(cache_limit)
        self.tables = tables
        self.dialect = dialect
        self.clock = clock
        self.raw_events = fastsql.RawTable(tables.events, dialect)
        self.raw_dossiers = fastsql.RawTable(tables.dossiers, dialect)
        self.upsert_dossiers = self.raw_dossiers.upsert_sql(["dossier_code"])
        self.dossier_updates = ColumnUpdates(self.raw_dossiers, "dossier_code")
        self.partition: str | None = None  # services.indicators.partitions

    def _insert(self, table: Table) -> Any:
        module: Any = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table)

    def _upsert(self, table: Table, keys: Sequence[str]) -> Any:
        statement = self._insert(table)
        updates = {column.name: statement.excluded[column.name] for column in table.columns if column.name not in keys}
        return statement.on_conflict_do_update(index_elements=list(keys), set_=updates)

    async def apply(self, session: AsyncSession, items: Sequence[Incoming], consumer: str) -> AppliedBatch:
        """Apply `items` exactly once each; the caller commits (or rolls back) the session."""
        await lock_projections(session, self.partition)
        position = await self._read_position(session, consumer)
        self.cache.validate(None if position is None else _token(position))
        self.cache.begin()
        outcome = AppliedBatch(received=len(items))
        unique: dict[tuple[str, str], Incoming] = {}
        for item in items:
            unique.setdefault((item.source, item.id), item)
            if item.sequence is not None:
                outcome.last_sequence = max(outcome.last_sequence or 0, item.sequence)
        inserted = await self._record_events(session, list(unique.values()))
        fresh = [item for identity, item in unique.items() if identity in inserted]
        outcome.new_events = len(fresh)
        dossier_events: dict[str, list[DossierEvent]] = defaultdict(list)
        procedures: dict[str, ProcedureState] = {}
        versions: list[ProcedureState] = []
        documents: dict[str, DocumentState] = {}
        feedback: dict[str, FeedbackState] = {}
        last_time: datetime | None = None
        for item in fresh:
            projected = item.projected
            if isinstance(projected, DossierEvent):
                dossier_events[projected.dossier_code].append(projected)
                time = projected.time
            elif isinstance(projected, ProcedureState):
                code = projected.procedure_code
                procedures[code] = merge_procedure(procedures.get(code), projected)
                versions.append(projected)
                time = projected.published_at
            elif isinstance(projected, DocumentState):
                if latest(documents.get(projected.document_id), projected):
                    documents[projected.document_id] = projected
                time = projected.completed_at
            else:
                if latest(feedback.get(projected.dossier_code), projected):
                    feedback[projected.dossier_code] = projected
                time = projected.submitted_at
            last_time = time if last_time is None or time > last_time else last_time
        if dossier_events:
            outcome.refolded, outcome.states = await self._apply_dossiers(session, dossier_events)
            outcome.dossier_codes = list(dossier_events)
        if procedures:
            await self._merge_procedures(session, procedures)
            await record_versions(session, self._insert(self.tables.procedure_versions), versions)
        if documents:
            await self._merge_latest(session, self.tables.documents, "document_id", documents)
        if feedback:
            await self._merge_latest(session, self.tables.feedback, "dossier_code", feedback)
        outcome.token = await self._store_position(session, consumer, position, outcome, last_time)
        return outcome

    def committed(self, outcome: AppliedBatch) -> None:
        """Call after the transaction of `apply` committed: lets the next batch skip reading these rows."""
        if outcome.token is not None:
            self.cache.remember(outcome.states, outcome.token)

    async def _record_events(self, session: AsyncSession, items: list[Incoming]) -> set[tuple[str, str]]:
        raw = self.raw_events
        rows = [_event_row(raw, item) for item in items]
        return {
            (source, event_id) for source, event_id in await fastsql.insert_new(session, raw, ["source", "id"], rows)
        }

    async def _apply_dossiers(
        self, session: AsyncSession, events: dict[str, list[DossierEvent]]
    ) -> tuple[int, list[DossierState]]:
        raw = self.raw_dossiers
        current: dict[str, DossierState] = {}
        missing = []
        for code in events:
            cached = self.cache.take(code)
            if cached is None:
                missing.append(code)
            else:
                current[code] = cached
        for chunk in fastsql.chunks(missing, CHUNK):
            sql, parameters = raw.select_in_sql("dossier_code", len(chunk)), raw.select_in_parameters(chunk)
            for record in await fastsql.fetch(session, sql, parameters):
                row = raw.from_db(record)
                current[row["dossier_code"]] = row_to_state(row)
        values_of = raw.values_of
        # SQLite: existing rows get only their changed columns. PostgreSQL: COPY of whole rows measured ~8% faster.
        before = {code: values_of(state) for code, state in current.items()} if raw.sqlite else {}
        states: list[DossierState] = []
        refold: list[str] = []
        for code, new_events in events.items():
            new_events.sort(key=lambda event: event.key)
            state = current.get(code)
            if not follows(state, new_events[0]):
                refold.append(code)
                continue
            for event in new_events:
                state = apply_event(state, event, self.clock)
            if state is not None:
                states.append(state)
        changes = [(before[state.dossier_code], values_of(state)) for state in states if state.dossier_code in before]
        whole = [state for state in states if state.dossier_code not in before]
        if refold:
            refolded = await self._refold(session, refold)
            whole.extend(refolded)
            states.extend(refolded)
        if changes:
            await self.dossier_updates.write(session, changes)
        await fastsql.upsert(session, raw, self.upsert_dossiers, [raw.object_to_db(state) for state in whole])
        return len(refold), states

    async def _refold(self, session: AsyncSession, codes: list[str]) -> list[DossierState]:
        """Out-of-order arrivals: fold every stored event of these dossiers again, in order."""
        table = self.tables.events
        history: dict[str, list[DossierEvent]] = defaultdict(list)
        for chunk in fastsql.chunks(codes, CHUNK):
            query = select(table.c.source, table.c.id, table.c.type, table.c.time, table.c.subject_key, table.c.data)
            query = query.where(table.c.kind == "dossier", table.c.subject_key.in_(chunk))
            for row in await session.execute(query):
                history[row.subject_key].append(
                    DossierEvent(row.source, row.id, row.type, row.time, row.subject_key, row.data or {})
                )
        states = [fold(events, self.clock) for events in history.values()]
        return [state for state in states if state is not None]

    async def _merge_procedures(self, session: AsyncSession, incoming: dict[str, ProcedureState]) -> None:
        table = self.tables.procedures
        merged = dict(incoming)
        result = await session.execute(select(table).where(table.c.procedure_code.in_(list(incoming))))
        for row in result.mappings():
            merged[row["procedure_code"]] = merge_procedure(ProcedureState(**row), incoming[row["procedure_code"]])
        rows = [_as_row(state) for state in merged.values()]
        await session.execute(self._upsert(table, ["procedure_code"]), rows)

    async def _merge_latest(
        self,
        session: AsyncSession,
        table: Table,
        key: str,
        incoming: dict[str, DocumentState] | dict[str, FeedbackState],
    ) -> None:
        keep: dict[str, DocumentState | FeedbackState] = dict(incoming)
        result = await session.execute(select(table.c[key], table.c.last_event_key).where(table.c[key].in_(list(keep))))
        for code, stored_key in result.all():
            if stored_key >= keep[code].last_event_key:
                del keep[code]
        if keep:
            await session.execute(self._upsert(table, [key]), [_as_row(state) for state in keep.values()])

    async def _read_position(self, session: AsyncSession, consumer: str) -> dict[str, Any] | None:
        table = self.tables.consumer_state
        row = (await session.execute(select(table).where(table.c.consumer == consumer))).mappings().first()
        return None if row is None else dict(row)

    async def _store_position(
        self,
        session: AsyncSession,
        consumer: str,
        row: dict[str, Any] | None,
        outcome: AppliedBatch,
        last_time: datetime | None,
    ) -> Token:
        table = self.tables.consumer_state
        sequence, applied, event_time = 0, 0, None
        if row is not None:
            sequence, applied, event_time = row["stream_sequence"], row["events_applied"], row["last_event_time"]
        if outcome.last_sequence is not None:
            sequence = max(sequence, outcome.last_sequence)
        if last_time is not None and (event_time is None or last_time > event_time):
            event_time = last_time
        values = {
            "consumer": consumer,
            "stream_sequence": sequence,
            "events_applied": applied + outcome.new_events,
            "last_event_time": event_time,
            "updated_at": datetime.now(UTC),
        }
        await session.execute(self._upsert(table, ["consumer"]), [values])
        return _token(values)


def _token(position: dict[str, Any]) -> Token:
    """What a writer left in the consumer-state row; equal only if nobody else wrote since."""
    return (position["stream_sequence"], position["events_applied"], position["updated_at"])


def _as_row(state: Any) -> dict[str, Any]:
    return {name: getattr(state, name) for name in state.__dataclass_fields__}

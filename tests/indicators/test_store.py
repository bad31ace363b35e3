"""The projection store applies each event exactly once, in event-time order, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.indicators.adapters.migrate import upgrade
from services.indicators.adapters.store import SqlProjections
from services.indicators.adapters.tables import TABLES
from services.indicators.adapters.unit_of_work import SqlUnitOfWork
from services.indicators.domain.calendar import build_calendar
from services.indicators.service_layer.projecting import apply_batch
from services.runtime.db import create_engine, create_session_factory
from tests.factories import dossier_event, envelope, procedure_published
from tests.indicators.store_helpers import ProjectionStore, apply, dossier_rows, incoming, new_store

CALENDAR = build_calendar()


class FailingCommit(SqlUnitOfWork):
    """A transaction that fails at its commit, after the batch mutated cached states."""

    async def commit(self) -> None:
        raise RuntimeError("the database went away")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


def history(code: str) -> list[dict[str, object]]:
    return [
        dossier_event("dossier.accepted", code, time="2026-03-02T08:00:00+07:00"),
        dossier_event("dossier.supplement_requested", code, time="2026-03-03T08:00:00+07:00"),
        dossier_event("dossier.supplement_received", code, time="2026-03-04T08:00:00+07:00"),
        dossier_event("dossier.processed", code, time="2026-03-05T16:00:00+07:00"),
        dossier_event("dossier.returned", code, time="2026-03-06T09:00:00+07:00"),
    ]


async def test_redelivered_events_change_nothing_when_applied_again(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    store = new_store(engine, CALENDAR)
    events = history("HS-0001")
    first = await apply(sessions, store, [*events, events[0]])
    before = await dossier_rows(engine)
    again = await apply(sessions, store, events)
    assert (first.new_events, again.new_events) == (5, 0)
    assert await dossier_rows(engine) == before
    assert before[0]["on_time"] is True
    assert before[0]["event_count"] == 5


async def test_out_of_order_batches_give_the_ordered_state_when_events_arrive_late(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    store = new_store(engine, CALENDAR)
    ordered, shuffled = history("HS-A"), history("HS-B")
    for event in shuffled:
        event["data"]["dossier_code"] = "HS-B"  # type: ignore[index]
    await apply(sessions, store, ordered)
    late = await apply(sessions, store, [shuffled[3], shuffled[4]])
    await apply(sessions, store, [shuffled[1]])
    refolded = await apply(sessions, store, [shuffled[2], shuffled[0]])
    rows = {row.pop("dossier_code"): row for row in await dossier_rows(engine)}
    for row in rows.values():
        row.pop("last_event_key")
    assert late.new_events == 2
    assert refolded.refolded == 1
    assert rows["HS-A"] == rows["HS-B"]


async def test_catalogue_keeps_the_latest_version_when_an_older_one_arrives_after(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    store = new_store(engine, CALENDAR)
    newer = procedure_published("1.0001", level="partial")
    newer["time"] = "2026-03-02T08:00:00+07:00"
    older = procedure_published("1.0001", level="none")
    older["time"] = "2026-01-05T08:00:00+07:00"
    document = envelope("document.completed", {"document_id": "VB-1", "agency": "UBND", "fully_electronic": True})
    await apply(sessions, store, [newer, document])
    await apply(sessions, store, [older])
    async with engine.connect() as connection:
        procedure = (await connection.execute(select(TABLES.procedures))).mappings().one()
        documents = await connection.scalar(select(func.count()).select_from(TABLES.documents))
        position = (await connection.execute(select(TABLES.consumer_state))).mappings().one()
    assert (procedure["level"], procedure["published_at"].isoformat()) == ("partial", "2026-01-05T01:00:00+00:00")
    assert documents == 1
    assert position["events_applied"] == 3


async def test_cached_states_are_dropped_when_another_writer_or_a_rollback_intervened(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    cached, other = new_store(engine, CALENDAR), new_store(engine, CALENDAR)
    events = history("HS-C")

    async def through(store: ProjectionStore, batch: list[dict[str, object]], *, commit: bool = True) -> None:
        items = [incoming(raw) for raw in batch]
        if commit:
            await store.apply(sessions, items)
            return
        uow = FailingCommit(sessions, store.projections)
        with pytest.raises(RuntimeError):
            await apply_batch(uow, items, consumer="indicators", clock=store.clock)

    await through(cached, events[:1])
    await through(other, events[1:2])  # another writer: the first store's cache is stale now
    await through(cached, events[2:3])
    await through(cached, events[3:4], commit=False)  # mutated cached state, then rolled back
    await through(cached, events[4:])
    row = (await dossier_rows(engine))[0]
    assert (row["event_count"], row["supplement_requests"], row["status"]) == (4, 1, "returned")
    assert row["processed_at"] is None


def paused_twice(code: str) -> list[dict[str, object]]:
    """Both pauses open at once, then closed one after the other; the dossier ends late."""
    return [
        dossier_event("dossier.accepted", code, time="2026-03-02T08:00:00+07:00", officer="CB-01"),
        dossier_event("dossier.supplement_requested", code, time="2026-03-03T08:00:00+07:00"),
        dossier_event("dossier.payment_requested", code, time="2026-03-03T09:00:00+07:00"),
        dossier_event("dossier.supplement_received", code, time="2026-03-04T08:00:00+07:00"),
        dossier_event("dossier.supplement_requested", code, time="2026-03-04T10:00:00+07:00"),
        dossier_event("dossier.paid", code, time="2026-03-05T08:00:00+07:00"),
        dossier_event("dossier.supplement_received", code, time="2026-03-06T08:00:00+07:00"),
        dossier_event("dossier.processed", code, time="2026-03-09T16:00:00+07:00"),
    ]


async def test_rows_are_the_same_when_states_are_read_from_the_table_instead_of_the_cache(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    cached = new_store(engine, CALENDAR)
    uncached = ProjectionStore(SqlProjections(TABLES, engine.dialect.name, cache_limit=0), CALENDAR)
    for store, code in ((cached, "HS-CACHED"), (uncached, "HS-TABLE")):
        for event in paused_twice(code):  # one batch per event: each folds onto the previous state
            await apply(sessions, store, [event])
    rows = {row.pop("dossier_code"): row for row in await dossier_rows(engine)}
    for row in rows.values():
        row.pop("last_event_key")
    assert rows["HS-CACHED"] == rows["HS-TABLE"]
    assert (rows["HS-TABLE"]["supplement_requests"], rows["HS-TABLE"]["open_pauses"]) == (2, "")
    assert rows["HS-TABLE"]["paused_seconds"] > 0

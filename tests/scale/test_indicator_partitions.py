"""Indicators partitioned by dossier over DVC_EVENTS: 2 and 4 partitions, run by two replicas writing one
PostgreSQL, end with the same dossiers and indicator values as one consumer on the same events."""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import Any

import pytest
from nats.js import JetStreamContext
from sqlalchemy import select

from services.contracts.events import parse_event
from services.contracts.partitioning import SLOTS, key_token, partition_of, slot_of
from services.indicators.adapters.tables import TABLES
from services.indicators.settings import Settings, check_partitions
from services.ingest.adapters.publisher import outgoing
from services.runtime.db import create_engine
from services.runtime.nats.embedded import EmbeddedNats
from services.runtime.nats.publishing import publish_all
from tests.factories import VN, dossier_event, procedure_published
from tests.indicators.app_helpers import connected, eventually, indicators, running_app, settings_for
from tests.indicators.store_helpers import dossier_rows
from tests.scale.postgres_helpers import fresh_postgres, require_postgres

START = datetime(2026, 3, 2, 8, 0, tzinfo=VN)
DOSSIERS = 48


def commune_events() -> list[dict[str, Any]]:
    """Dossiers of two procedures with varied steps and due dates, a procedure, one step sent out of order."""
    events: list[dict[str, Any]] = [procedure_published("1.001193"), procedure_published("2.000001", level="partial")]
    for index in range(DOSSIERS):
        code = f"000.00.30.H04-260302-{index:04d}"
        accepted = START + timedelta(hours=index * 5)
        procedure = "1.001193" if index % 3 else "2.000001"
        due = accepted + timedelta(days=1 + index % 4)
        history = [
            dossier_event("dossier.accepted", code, time=accepted, procedure_code=procedure, due_at=due.isoformat())
        ]
        if index % 5 == 1:
            history.append(dossier_event("dossier.supplement_requested", code, time=accepted + timedelta(hours=2)))
            history.append(dossier_event("dossier.supplement_received", code, time=accepted + timedelta(days=1)))
        if index % 4 != 3:
            processed = accepted + timedelta(days=index % 6)
            history.append(dossier_event("dossier.processed", code, time=processed))
            history.append(dossier_event("dossier.returned", code, time=processed + timedelta(hours=3)))
        if index % 7 == 2:
            history.reverse()  # arrives out of order: the partition must refold it like the single consumer
        events.extend(history)
    return events


async def publish_keyed(js: JetStreamContext, events: list[dict[str, Any]]) -> None:
    """As ingest publishes: on the keyed subject, Nats-Msg-Id from (source, id)."""
    messages = [outgoing(parse_event(json.dumps(event, ensure_ascii=False).encode())) for event in events]
    await publish_all(js, messages)


async def applied_events(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            table = TABLES.consumer_state
            rows = await connection.execute(select(table.c.consumer, table.c.events_applied))
            return {consumer: applied for consumer, applied in rows}
    finally:
        await engine.dispose()


async def project(nats_url: str, database_url: str, replicas: list[dict[str, Any]], total: int) -> dict[str, Any]:
    """Run the replicas until every event is applied; the dossier rows, the indicators and who applied what."""
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(running_app(settings_for(nats_url, database_url, **replica)))
            for replica in replicas
        ]

        async def all_applied() -> bool:
            return sum((await applied_events(database_url)).values()) == total

        await eventually(all_applied, timeout=120)
        values = await indicators(clients[-1])
    engine = create_engine(database_url)
    try:
        rows = await dossier_rows(engine)
    finally:
        await engine.dispose()
    return {"rows": rows, "indicators": values, "applied": await applied_events(database_url)}


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("partitions", "owned"),
    [(2, [[0], [1]]), (4, [[0, 1], [2, 3]])],
    ids=["2-partitions", "4-partitions"],
)
async def test_partitioned_replicas_equal_one_consumer_when_two_replicas_share_postgres(
    private_nats: EmbeddedNats, partitions: int, owned: list[list[int]]
) -> None:
    require_postgres()
    events = commune_events()
    async with connected(private_nats.url) as (_client, js):
        await publish_keyed(js, events)
        await publish_keyed(js, events[:10])  # sent again: JetStream drops them, no consumer sees them twice
    async with fresh_postgres() as single_url, fresh_postgres() as partitioned_url:
        single = await project(private_nats.url, single_url, [{}], len(events))
        replicas = [{"partitions": partitions, "owned_partitions": share} for share in owned]
        split = await project(private_nats.url, partitioned_url, replicas, len(events))
    assert len(single["rows"]) == DOSSIERS
    assert split["rows"] == single["rows"]
    assert split["indicators"] == single["indicators"]
    expected_durables = {f"indicators-p{index}-of-{partitions}" for index in range(partitions)}
    assert set(split["applied"]) == expected_durables
    assert all(count > 0 for count in split["applied"].values())  # every partition had dossiers of its own


def test_partition_of_a_dossier_is_the_slot_nats_stores_when_keyed() -> None:
    token = key_token("000.00.30.H04-260302-0001")
    assert 0 <= slot_of(token) < SLOTS
    assert partition_of("000.00.30.H04-260302-0001", 4) == slot_of(token) % 4


async def test_stored_subject_carries_nats_partition_when_published_keyed(private_nats: EmbeddedNats) -> None:
    event = dossier_event("dossier.accepted", "000.00.30.H04-260302-0042", due_at="2026-03-05T17:00:00+07:00")
    async with connected(private_nats.url) as (_client, js):
        await publish_keyed(js, [event])
        stored = await js.get_msg("DVC_EVENTS", seq=1)
    token = key_token("000.00.30.H04-260302-0042")
    assert stored.subject == f"dvc.events.dossier.accepted.{token}.{slot_of(token)}"


def test_settings_refuse_partitions_when_database_is_sqlite(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match="needs PostgreSQL"):
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", partitions=2)
    with pytest.raises(ValueError, match="OWNED_PARTITIONS"):
        check_partitions(2, [2], "postgresql+asyncpg://localhost/x")
    assert Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}").partitions == 1

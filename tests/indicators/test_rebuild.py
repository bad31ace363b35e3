"""`dvc-pulse indicators rebuild` gives exactly the incremental projections and indicators."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.indicators.adapters.tables import TABLES
from services.indicators.entrypoints.rebuild_cli import rebuild
from services.runtime.db import create_engine
from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event, procedure_published
from tests.indicators.app_helpers import connected, eventually, indicators, publish, running_app, settings_for
from tests.indicators.store_helpers import dossier_rows

pytestmark = pytest.mark.timeout(120)


def history() -> list[dict[str, object]]:
    events: list[dict[str, object]] = [procedure_published("1.001193")]
    for index in range(12):
        code = f"HS-R{index:02d}"
        channel = "online" if index % 3 else "direct"
        events.append(
            dossier_event(
                "dossier.accepted",
                code,
                time=f"2026-03-{2 + index % 5:02d}T08:00:00+07:00",
                channel=channel,
                due_at="2026-03-10T17:00:00+07:00",
            )
        )
        if index % 2:
            events.append(dossier_event("dossier.processed", code, time=f"2026-03-{9 + index % 4:02d}T10:00:00+07:00"))
    return events


async def snapshot_of(database_url: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    engine = create_engine(database_url)
    rows = await dossier_rows(engine)
    async with engine.connect() as connection:
        procedures = [dict(row) for row in (await connection.execute(select(TABLES.procedures))).mappings()]
    await engine.dispose()
    return rows, procedures


async def test_rebuild_equals_the_incremental_projection_when_replaying_the_stream(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    settings = settings_for(private_nats.url, database_url)
    events = history()
    late = events.pop(3)  # arrives after the others: refolded incrementally, in order on replay
    async with connected(private_nats.url) as (_client, js):
        await publish(js, events)
        await js.publish("dvc.events.dossier.accepted", b"garbage", headers={"Nats-Msg-Id": "garbage"})
        await publish(js, [late, events[5]], msg_id_suffix=":again")
        async with running_app(settings) as api:

            async def all_applied() -> dict[str, dict[str, object]] | None:
                rows = await indicators(api)
                return rows if rows["I20"]["denominator"] == 12 else None

            incremental_indicators = await eventually(all_applied)
        incremental = await snapshot_of(database_url)
        result = await rebuild(settings, batch_size=7)
        rebuilt = await snapshot_of(database_url)
        async with running_app(settings) as api:
            rebuilt_indicators = await indicators(api)
    assert (result.messages, result.invalid, result.applied) == (len(events) + 3, 1, len(events) + 1)
    assert rebuilt == incremental
    assert rebuilt_indicators == incremental_indicators

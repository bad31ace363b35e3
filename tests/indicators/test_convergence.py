"""Property: any arrival order, with duplicates and any batching, gives the ordered projection and indicators."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.pool import StaticPool

from services.contracts.events import parse_event
from services.indicators.adapters.indicator_counts import indicator_counts
from services.indicators.adapters.tables import METADATA, TABLES
from services.indicators.domain.calendar import build_calendar
from services.indicators.domain.dossier import DossierEvent, fold
from services.indicators.domain.events import to_projected
from services.indicators.domain.indicators import Scope
from services.runtime.db import create_engine, create_session_factory
from tests.factories import VN, dossier_event, procedure_published
from tests.indicators.store_helpers import apply, dossier_rows, new_store

CALENDAR = build_calendar()
START = datetime(2026, 1, 5, 7, 0, tzinfo=VN)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
STEPS = (
    "dossier.supplement_requested",
    "dossier.supplement_received",
    "dossier.payment_requested",
    "dossier.paid",
    "dossier.rescheduled",
    "dossier.transferred",
    "dossier.processed",
    "dossier.returned",
    "dossier.withdrawn",
    "dossier.stopped",
)


@st.composite
def dossier_history(draw: st.DrawFn, code: str) -> list[dict[str, Any]]:
    time = START + timedelta(minutes=draw(st.integers(0, 60 * 24 * 60)))
    due = time + timedelta(days=draw(st.integers(1, 10)))
    channel = draw(st.sampled_from(["online", "direct", "postal"]))
    flags = {"digitized": draw(st.booleans()), "reused_data": draw(st.booleans())}
    events = [dossier_event("dossier.accepted", code, time=time, channel=channel, due_at=due.isoformat(), **flags)]
    for step in draw(st.lists(st.sampled_from(STEPS), max_size=7)):
        time += timedelta(minutes=draw(st.sampled_from([0, 30, 240, 1440, 4320])))
        extra: dict[str, Any] = {}
        if step == "dossier.paid":
            extra["paid_online"] = draw(st.booleans())
        elif step == "dossier.processed":
            extra = {"result_electronic": draw(st.booleans()), "result_digitized": draw(st.booleans())}
        elif step == "dossier.returned":
            extra["delivery"] = draw(st.sampled_from(["counter", "postal", "electronic"]))
        elif step == "dossier.rescheduled":
            extra["new_due_at"] = (due + timedelta(days=3)).isoformat()
        events.append(dossier_event(step, code, time=time, **extra))
    return events


@st.composite
def arrival(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """(events in time order, the same events shuffled with duplicates, cut into batches)."""
    ordered = [event for index in range(draw(st.integers(1, 4))) for event in draw(dossier_history(f"HS-{index}"))]
    ordered.append(procedure_published("1.001193", level=draw(st.sampled_from(["full", "partial", "none"]))))
    shuffled = draw(st.permutations(ordered))
    duplicates = draw(st.lists(st.sampled_from(ordered), max_size=5))
    stream = [*shuffled, *duplicates]
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=4)))
    batches = [stream[start:end] for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    return sorted(ordered, key=lambda event: event["time"]), [batch for batch in batches if batch]


async def project(batches: list[list[dict[str, Any]]]) -> tuple[list[dict[str, Any]], dict[str, tuple[int, int]]]:
    engine = create_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    sessions, store = create_session_factory(engine), new_store(engine, CALENDAR)
    for batch in batches:
        await apply(sessions, store, batch)
    rows = await dossier_rows(engine)
    async with engine.connect() as connection:
        start, end = datetime(2026, 1, 1, tzinfo=VN), datetime(2027, 1, 1, tzinfo=VN)
        counts = await indicator_counts(connection, TABLES, start, end, Scope(), NOW)
    await engine.dispose()
    return rows, counts


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrival())
def test_projection_and_indicators_match_the_ordered_history_when_events_arrive_shuffled_and_twice(
    case: tuple[list[dict[str, Any]], list[list[dict[str, Any]]]],
) -> None:
    ordered, batches = case
    expected = asyncio.run(project([[event] for event in ordered]))
    actual = asyncio.run(project(batches))
    assert actual == expected


def by_dossier(raws: list[dict[str, Any]]) -> dict[str, list[DossierEvent]]:
    grouped: dict[str, list[DossierEvent]] = defaultdict(list)
    for raw in raws:
        projected = to_projected(parse_event(raw))
        if isinstance(projected, DossierEvent):
            grouped[projected.dossier_code].append(projected)
    return grouped


@settings(max_examples=300, deadline=None)
@given(arrival())
def test_fold_matches_the_ordered_fold_when_events_arrive_shuffled_and_twice(
    case: tuple[list[dict[str, Any]], list[list[dict[str, Any]]]],
) -> None:
    ordered, batches = case
    expected = {code: fold(events, CALENDAR) for code, events in by_dossier(ordered).items()}
    arrived = by_dossier([event for batch in batches for event in batch])
    assert {code: fold(events, CALENDAR) for code, events in arrived.items()} == expected

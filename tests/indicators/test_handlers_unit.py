"""The apply use case against in-memory repositories: dedup, fold, refold, registers and stream position."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.indicators.domain.calendar import build_calendar
from services.indicators.domain.dossier import DossierStatus
from services.indicators.service_layer.messages import AppliedBatch
from services.indicators.service_layer.projecting import apply_batch
from tests.factories import dossier_event, envelope, procedure_published
from tests.indicators.fake_uow import FakeUnitOfWork, Stored
from tests.indicators.store_helpers import incoming

CLOCK = build_calendar()
NOW = datetime(2026, 3, 20, 3, 0, tzinfo=UTC)
CODE = "000.00.00.H00-260302-0001"


async def apply(database: Stored, raws: list[dict[str, Any]], *, first_sequence: int = 1) -> AppliedBatch:
    items = [incoming(raw, first_sequence + index) for index, raw in enumerate(raws)]
    return await apply_batch(FakeUnitOfWork(database), items, consumer="indicators", clock=CLOCK, now=lambda: NOW)


def lifecycle() -> list[dict[str, Any]]:
    return [
        dossier_event("dossier.submitted", CODE, time="2026-03-02T08:00:00+07:00"),
        dossier_event("dossier.accepted", CODE, time="2026-03-02T08:15:00+07:00"),
        dossier_event("dossier.processed", CODE, time="2026-03-03T10:00:00+07:00"),
        dossier_event("dossier.returned", CODE, time="2026-03-03T15:00:00+07:00"),
    ]


async def test_an_event_sent_twice_is_applied_once_when_it_comes_again_in_the_same_or_a_later_batch() -> None:
    database = Stored()
    accepted = dossier_event("dossier.accepted", CODE)
    first = await apply(database, [accepted, accepted])
    again = await apply(database, [accepted], first_sequence=3)
    assert (first.received, first.new_events, again.new_events) == (2, 1, 0)
    assert database.dossiers[CODE].event_count == 1
    assert database.positions["indicators"].events_applied == 1


async def test_a_late_event_refolds_the_dossier_when_it_sorts_before_what_was_folded() -> None:
    in_order, shuffled = Stored(), Stored()
    events = lifecycle()
    await apply(in_order, events)
    await apply(shuffled, [events[0], events[2], events[3]])
    late = await apply(shuffled, [events[1]], first_sequence=4)
    assert late.refolded == 1
    assert shuffled.dossiers[CODE] == in_order.dossiers[CODE]
    assert shuffled.dossiers[CODE].status == DossierStatus.RETURNED


async def test_the_latest_document_wins_when_an_older_one_arrives_after_it() -> None:
    database = Stored()
    newer = envelope(
        "document.completed",
        {"document_id": "VB-1", "agency": "UBND", "fully_electronic": True},
        time="2026-03-05T08:00:00+07:00",
    )
    older = envelope(
        "document.completed",
        {"document_id": "VB-1", "agency": "UBND", "fully_electronic": False},
        time="2026-03-04T08:00:00+07:00",
    )
    await apply(database, [newer])
    await apply(database, [older], first_sequence=2)
    assert database.documents["VB-1"].fully_electronic is True


async def test_a_procedure_takes_the_newer_settings_and_keeps_every_version_when_published_again() -> None:
    database = Stored()
    await apply(database, [procedure_published(level="full")])
    await apply(database, [procedure_published(level="partial")], first_sequence=2)
    procedure = database.procedures["1.001193"]
    assert procedure.level == "partial"
    assert len(database.versions) == 2


async def test_the_position_never_moves_back_when_a_batch_is_redelivered() -> None:
    database = Stored()
    events = lifecycle()
    await apply(database, events, first_sequence=10)
    await apply(database, events[:2], first_sequence=1)
    position = database.positions["indicators"]
    assert (position.stream_sequence, position.events_applied) == (13, 4)
    assert position.last_event_time == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert position.updated_at == NOW


async def test_nothing_is_stored_when_the_commit_fails() -> None:
    database = Stored()
    uow = FakeUnitOfWork(database, fail_commit=True)
    with pytest.raises(RuntimeError):
        await apply_batch(uow, [incoming(raw, 1) for raw in lifecycle()], consumer="indicators", clock=CLOCK)
    assert (database.events, database.dossiers, database.positions) == ({}, {}, {})

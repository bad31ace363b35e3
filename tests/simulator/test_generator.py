from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from pydantic import ValidationError

from services.contracts.events import EventType, parse_event
from services.simulator.calendar import VN_TIMEZONE
from services.simulator.catalog import load_catalog
from services.simulator.generator import FAR_FUTURE, Simulation, default_world, generate, generate_live_slot
from services.simulator.model import Config

DAY = datetime(2026, 3, 2, tzinfo=VN_TIMEZONE)


def _documents(simulation: Simulation) -> list[dict[str, object]]:
    return [event.document for event in [*simulation.events, *simulation.pending]]


def test_identical_events_when_same_seed_and_window() -> None:
    first = generate(11, DAY, DAY + timedelta(days=5))
    second = generate(11, DAY, DAY + timedelta(days=5))
    assert _documents(first) == _documents(second)


def test_different_dossiers_when_seed_differs() -> None:
    first = generate(11, DAY, DAY + timedelta(days=2))
    second = generate(12, DAY, DAY + timedelta(days=2))
    assert _documents(first) != _documents(second)


def test_same_dossier_events_when_window_starts_later() -> None:
    """A restart with a shifted window re-sends the same events for the same dossiers (ingest dedups them)."""
    long = generate(5, DAY, DAY + timedelta(days=6), cutoff=FAR_FUTURE)
    short = generate(5, DAY + timedelta(days=3), DAY + timedelta(days=6), cutoff=FAR_FUTURE)
    late_codes = set(short.truth.dossiers)
    from_long = [e.document for e in long.events if e.document["data"].get("dossier_code") in late_codes]
    from_short = [e.document for e in short.events if e.document["data"].get("dossier_code") in late_codes]
    assert late_codes
    assert from_long == from_short


def test_every_event_valid_when_parsed_by_the_contract(quarter: Simulation) -> None:
    live = generate_live_slot(3, DAY, default_world(Config(office="always", intensity=200, time_scale=200)))
    invalid = []
    for document in _documents(quarter) + _documents(live):
        try:
            parse_event(document)
        except ValidationError as error:
            invalid.append((document["id"], str(error)[:200]))
    assert invalid == []


def test_event_identities_unique_when_generated(quarter: Simulation) -> None:
    identities = Counter(event.identity for event in [*quarter.events, *quarter.pending])
    assert [identity for identity, count in identities.items() if count > 1] == []


def test_catalogue_published_first_when_window_generated(quarter: Simulation) -> None:
    procedures = load_catalog().procedures
    first = quarter.events[: len(procedures)]
    assert {event.document["type"] for event in first} == {EventType.PROCEDURE_PUBLISHED.value}
    assert {event.document["subject"] for event in first} == {procedure.code for procedure in procedures}


def test_events_in_time_order_when_generated(quarter: Simulation) -> None:
    keys = [event.sort_key for event in quarter.events]
    assert keys == sorted(keys)


def test_every_lifecycle_variant_present_when_a_quarter_is_simulated(quarter: Simulation) -> None:
    types = Counter(event.document["type"].removeprefix("vn.gov.dvc.") for event in quarter.events)
    assert set(types) == {event_type.short_name for event_type in EventType}
    sources = {event.document["source"] for event in quarter.events}
    assert sources == {"urn:dvc:lam-thao:one-stop", "urn:dvc:lam-thao:payments", "urn:dvc:lam-thao:documents"}


def test_events_split_at_cutoff_when_cutoff_inside_window() -> None:
    cutoff = DAY + timedelta(days=2, hours=10)
    simulation = generate(9, DAY, DAY + timedelta(days=3), cutoff=cutoff)
    assert all(event.time <= cutoff for event in simulation.events)
    assert all(event.time > cutoff for event in simulation.pending)
    assert all(dossier.submitted_at <= cutoff for dossier in simulation.truth.dossiers.values())


def test_codes_distinct_when_live_slot_and_history_share_a_day() -> None:
    history = generate(4, DAY, DAY + timedelta(days=1), cutoff=FAR_FUTURE)
    live = generate_live_slot(4, DAY + timedelta(hours=9), default_world(Config(office="always", intensity=300)))
    assert live.truth.dossiers
    assert set(history.truth.dossiers).isdisjoint(live.truth.dossiers)

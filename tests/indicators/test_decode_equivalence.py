"""The fast decode path (to_projected, DossierEvent keys, events-table rows) equals the straightforward formulas."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.bench_indicators_apply import generate as bench_events
from services.contracts.catalog import DocumentCompleted, FeedbackSubmitted, ProcedurePublished
from services.contracts.events import CloudEvent, EventType, parse_event
from services.indicators.adapters import fastsql
from services.indicators.adapters.store import _event_row
from services.indicators.adapters.tables import TABLES
from services.indicators.domain.catalog import DocumentState, FeedbackState, ProcedureState
from services.indicators.domain.dossier import TYPE_ORDER, TYPE_RANK, DossierEvent
from services.indicators.domain.events import ProjectedEvent, to_projected
from services.indicators.service_layer.messages import Incoming
from services.simulator.generator import generate as simulate
from tests.factories import _DATA, VN, dossier_event, envelope, procedure_published

RAW = {dialect: fastsql.RawTable(TABLES.events, dialect) for dialect in ("sqlite", "postgresql")}
OFFSETS = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
TIMES = st.datetimes(min_value=datetime(1, 1, 3), max_value=datetime(9999, 12, 29), timezones=OFFSETS)
TIMES_WITH_WHOLE_SECONDS = TIMES.map(lambda time: time.replace(microsecond=0))


def reference_key(time: datetime, short: str, source: str, event_id: str) -> str:
    stamp = time.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    rank = TYPE_RANK.get(short, len(TYPE_ORDER))
    return f"{stamp}\x1f{rank:02d}\x1f{source}\x1f{event_id}"


def reference_projected(event: CloudEvent) -> tuple[ProjectedEvent, str]:
    """What to_projected returned before the fast path, and the key it computed."""
    short = EventType(event.type).short_name
    key = reference_key(event.time, short, event.source, event.id)
    data = event.data
    if isinstance(data, ProcedurePublished):
        state = ProcedureState(
            procedure_code=data.procedure_code,
            name=data.name,
            field=data.field,
            level=data.level.value,
            eligible_full_online=data.eligible_full_online,
            boundary_free=data.boundary_free,
            business_related=data.business_related,
            has_fee=data.has_fee,
            time_limit_value=data.time_limit.value,
            time_limit_unit=data.time_limit.unit.value,
            published_at=event.time,
            last_event_key=key,
        )
        return state, key
    if isinstance(data, DocumentCompleted):
        return DocumentState(data.document_id, data.agency, data.fully_electronic, event.time, key), key
    if isinstance(data, FeedbackSubmitted):
        return FeedbackState(data.dossier_code, data.satisfied, event.time, key), key
    payload: dict[str, Any] = {}
    for name, value in data.__dict__.items():
        if name == "applicant":
            payload["applicant_kind"] = value.kind.value
        elif isinstance(value, Enum):
            payload[name] = value.value
        elif isinstance(value, datetime):
            payload[name] = value.astimezone(UTC)
        else:
            payload[name] = value
    time = event.time.astimezone(UTC)
    return DossierEvent(event.source, event.id, short, time, payload["dossier_code"], payload, key), key


def reference_row(raw: fastsql.RawTable, item: Incoming) -> tuple[Any, ...]:
    projected = item.projected
    data: dict[str, Any] | None = None
    if isinstance(projected, DossierEvent):
        kind, key, event_type, time = "dossier", projected.dossier_code, projected.type, projected.time
        data = dict(projected.data)
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
    row = {"source": item.source, "id": item.id, "kind": kind, "subject_key": key, "type": event_type}
    return raw.to_db(row | {"time": time, "data": data})


def typed(value: Any) -> Any:
    """A value with its exact type and, for datetimes, its tzinfo: equal values of other types differ."""
    if isinstance(value, dict):
        return [(name, typed(item)) for name, item in value.items()]
    if isinstance(value, list | tuple):
        return [typed(item) for item in value]
    if isinstance(value, datetime):
        return (value, value.tzinfo, value.isoformat())
    return (type(value), value)


def assert_same_decode(raw_event: bytes | dict[str, Any]) -> None:
    event = parse_event(raw_event)
    expected, key = reference_projected(event)
    actual = to_projected(event)
    assert type(actual) is type(expected)
    for item in fields(expected):
        assert typed(getattr(actual, item.name)) == typed(getattr(expected, item.name)), item.name
    if isinstance(actual, DossierEvent):
        assert actual.key == key
        rebuilt = DossierEvent(actual.source, actual.id, actual.type, event.time, actual.dossier_code, actual.data)
        assert rebuilt.key == key  # as _refold builds them from stored rows: key computed from `time`
    else:
        assert actual.last_event_key == key
    incoming = Incoming(event.source, event.id, actual)
    for raw in RAW.values():
        assert typed(list(_event_row(raw, incoming))) == typed(list(reference_row(raw, incoming)))


def test_events_table_columns_are_in_row_order_when_rows_are_built_without_a_dict() -> None:
    for raw in RAW.values():
        assert raw.columns == ["source", "id", "kind", "subject_key", "type", "time", "data"]


def test_decode_equals_reference_when_events_come_from_the_simulator() -> None:
    simulation = simulate(5, datetime(2026, 3, 2, tzinfo=VN), datetime(2026, 3, 9, tzinfo=VN))
    events = simulation.events + simulation.pending
    assert {event.document["type"] for event in events} == {event_type.value for event_type in EventType}
    for event in events:
        assert_same_decode(orjson.dumps(event.document))


def test_decode_equals_reference_when_events_come_from_the_apply_benchmark() -> None:
    for message in bench_events(3000, "eq"):
        assert_same_decode(message.payload)


@pytest.mark.parametrize("short_type", sorted(_DATA))
@settings(max_examples=60, deadline=None)
@given(time=st.one_of(TIMES, TIMES_WITH_WHOLE_SECONDS), due=st.one_of(TIMES, TIMES_WITH_WHOLE_SECONDS))
def test_decode_equals_reference_when_times_have_any_offset_and_precision(
    short_type: str, time: datetime, due: datetime
) -> None:
    raw = dossier_event(short_type, time=time, event_id=f"id-{time.microsecond}", source=f"urn:x:{due.second}")
    data = raw["data"]
    for name in ("due_at", "new_due_at"):
        if name in data:
            data[name] = due.isoformat()
    raw["data"] = dict(reversed(data.items()))  # the payload keeps the model's field order, not the sender's
    assert_same_decode(orjson.dumps(raw))
    assert_same_decode(raw)


@settings(max_examples=100, deadline=None)
@given(time=st.one_of(TIMES, TIMES_WITH_WHOLE_SECONDS))
def test_decode_equals_reference_when_catalog_events_have_any_time(time: datetime) -> None:
    procedure = procedure_published()
    procedure["time"] = time.isoformat()
    document = envelope(
        "document.completed", {"document_id": "D-1", "agency": "A", "fully_electronic": True}, time=time
    )
    feedback = envelope("feedback.submitted", {"dossier_code": "C-1", "satisfied": False}, time=time)
    for raw in (procedure, document, feedback):
        assert_same_decode(orjson.dumps(raw))


@settings(max_examples=300, deadline=None)
@given(time=st.one_of(TIMES, TIMES_WITH_WHOLE_SECONDS), short=st.sampled_from([*TYPE_ORDER, "dossier.unknown"]))
def test_event_key_equals_reference_when_built_from_any_aware_time(time: datetime, short: str) -> None:
    event = DossierEvent("urn:s", "e-1", short, time, "C-1", {})
    assert event.key == reference_key(time, short, "urn:s", "e-1")

"""Hypothesis against the event contract and the code that meets untrusted input first: ingest's validation (any
body either validates or is refused with a 4xx naming a field) and the consumers' decoders (any message either
decodes or is dead-lettered by the batch rules with the reason and the error's type). Nothing escapes."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from services.contracts.events import parse_event, serialize_event
from services.indicators.entrypoints.decoding import decode as indicators_decode
from services.ingest.domain.time_rules import TimeRules
from services.ingest.domain.validation import (
    BATCH,
    JSON,
    STRUCTURED,
    Rejected,
    binary_event,
    check_times,
    decode_body,
)
from services.notifier.entrypoints.subscribers import alert_decoder, event_decoder
from services.runtime.nats.consuming import BatchProcessor
from services.tasks.entrypoints.subscribers import decode as tasks_decode
from tests.fuzz.contract_strategies import VALID_EVENTS, json_values, mutated, mutated_events
from tests.fuzz.settings import hypothesis_fuzz

pytestmark = [pytest.mark.fuzz]
FUZZ_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the valid events of tests/factories are of 2 March 2026


def _message(subject: str, data: bytes) -> Msg:
    reply = f"$JS.ACK.DVC_EVENTS.fuzz.1.7.7.{int(datetime(2026, 3, 2, tzinfo=UTC).timestamp() * 1e9)}.0"
    return Msg(_client=None, subject=subject, reply=reply, data=data)  # type: ignore[arg-type]


EVENT_DECODERS = {"indicators": indicators_decode, "notifier": event_decoder("Asia/Ho_Chi_Minh")}


def _assert_refused_properly(rejection: Rejected) -> None:
    assert rejection.status in (400, 413, 415, 422), rejection
    assert rejection.detail
    if rejection.status == 422:
        assert rejection.errors
        assert all(error.field and error.reason for error in rejection.errors), rejection.errors


def _decodes_or_dead_letters(decode: Callable[[Msg], object], message: Msg) -> None:
    """Through the consumers' batch rules: the message decodes, or is dead-lettered with a reason and the error's
    type (an InvalidMessage, or any other exception of the decoder); nothing escapes to hold back its batch."""
    processor: BatchProcessor[object] = BatchProcessor(
        "fuzz", "fuzz", cast(JetStreamContext, None), decode, _never_applied, max_deliver=2
    )
    batch = processor.decode_all([message])
    assert len(batch.items) + len(batch.invalid) == 1
    for _message, rejection in batch.invalid:
        assert rejection.reason.startswith("invalid: ")
        assert rejection.reason != "invalid: "
        assert rejection.error_type


async def _never_applied(_items: Sequence[object]) -> None:
    raise AssertionError("decoding alone is fuzzed here")


def _decoded_by_consumers(stored: bytes) -> None:
    """What ingest accepted, every event consumer decodes (or dead-letters with a reason)."""
    for decode in EVENT_DECODERS.values():
        _decodes_or_dead_letters(decode, _message("dvc.events.dossier.accepted", stored))


def _validate(media_type: str | None, body: bytes, attributes: dict[str, str] | None = None) -> None:
    """What ingest does with a body before publishing it: decode, then the time rules (at the fuzz's clock)."""
    try:
        decoded = decode_body(media_type, body, attributes or {}, max_events=20)
        check_times(decoded.events, TimeRules().window(FUZZ_NOW), decoded.mode)
    except Rejected as rejection:
        _assert_refused_properly(rejection)
        return
    for event in decoded.events:  # what is accepted is stored canonically, reads back the same, is consumable
        stored = serialize_event(event)
        read_back = parse_event(stored)
        # The stored form is a fixed point; a null optional attribute (`"datacontenttype": null`) is stored absent
        # and reads back as its default, as CloudEvents treats null attributes as absent.
        assert serialize_event(read_back) == stored
        assert (read_back.source, read_back.id, read_back.type, read_back.time, read_back.data) == (
            event.source,
            event.id,
            event.type,
            event.time,
            event.data,
        )
        _decoded_by_consumers(stored)


@hypothesis_fuzz()
@given(value=json_values, media_type=st.sampled_from([STRUCTURED, BATCH, JSON, None]))
def test_ingest_accepts_or_refuses_naming_a_field_when_the_body_is_any_json(value: Any, media_type: str | None) -> None:
    _validate(media_type, json.dumps(value).encode())


@hypothesis_fuzz()
@given(event=mutated_events(), media_type=st.sampled_from([STRUCTURED, JSON]), as_batch=st.booleans())
@example(event=mutated(VALID_EVENTS[1], ("time",), "0001-01-01T00:00:00+01:00"), media_type=STRUCTURED, as_batch=False)
def test_ingest_accepts_or_refuses_naming_a_field_when_a_valid_event_is_mutated(
    event: dict[str, Any], media_type: str, as_batch: bool
) -> None:
    _validate(BATCH if as_batch else media_type, json.dumps([event] if as_batch else event).encode())


@hypothesis_fuzz()
@given(body=st.binary(max_size=200), media_type=st.sampled_from([STRUCTURED, BATCH, JSON, None]))
def test_ingest_refuses_with_a_4xx_when_the_body_is_any_bytes(body: bytes, media_type: str | None) -> None:
    _validate(media_type, body)


@hypothesis_fuzz()
@given(event=mutated_events())
def test_binary_mode_accepts_or_refuses_naming_a_field_when_attributes_are_mutated(event: dict[str, Any]) -> None:
    attributes = {name: value if isinstance(value, str) else json.dumps(value) for name, value in event.items()}
    attributes.pop("data", None)
    attributes.pop("datacontenttype", None)
    body = json.dumps(event.get("data")).encode()
    try:
        binary_event({"specversion": "1.0", **attributes}, body)
    except Rejected as rejection:
        _assert_refused_properly(rejection)


@hypothesis_fuzz()
@given(event=mutated_events() | json_values, consumer=st.sampled_from(sorted(EVENT_DECODERS)))
@example(event=mutated(VALID_EVENTS[1], ("time",), "0001-01-01T00:00:00+01:00"), consumer="indicators")
@example(event=mutated(VALID_EVENTS[1], ("time",), "0001-01-01T00:00:00+01:00"), consumer="notifier")
def test_event_consumers_decode_or_dead_letter_when_the_message_is_any_json(event: Any, consumer: str) -> None:
    message = _message("dvc.events.dossier.accepted", json.dumps(event).encode())
    _decodes_or_dead_letters(EVENT_DECODERS[consumer], message)


ALERT_SUBJECTS = ["dvc.alerts.dossier.overdue", "dvc.alerts.task.overdue", "dvc.alerts.indicators.snapshot"]


@hypothesis_fuzz()
@given(value=json_values, subject=st.sampled_from(ALERT_SUBJECTS))
def test_alert_consumers_decode_or_dead_letter_when_the_message_is_any_json(value: Any, subject: str) -> None:
    decoder = tasks_decode if subject.endswith("snapshot") else alert_decoder("Asia/Ho_Chi_Minh")
    _decodes_or_dead_letters(decoder, _message(subject, json.dumps(value).encode()))

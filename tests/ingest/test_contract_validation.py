"""Contract rules checked without a server: unknown fields, unknown or missing types and binary-mode errors are
refused naming the field; an event's identity is its (source, id) pair."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from services.contracts.events import message_id
from services.ingest.domain.validation import Rejected, binary_event, ce_attributes, decode_body, media_type_of
from tests.factories import dossier_event
from tests.ingest.conftest import BATCH, STRUCTURED

OTHER_SOURCE = "urn:dvc:lam-thao:document-system"


def with_unknown_fields() -> dict[str, Any]:
    """A valid event with a misspelt field in `data` and one in the nested applicant."""
    event = dossier_event("dossier.accepted")
    event["data"]["due_att"] = event["data"]["due_at"]
    event["data"]["applicant"]["phone_number"] = "0912345678"
    return event


def test_unknown_fields_are_refused_naming_each_when_data_carries_them() -> None:
    with pytest.raises(Rejected) as refused:
        decode_body(STRUCTURED, orjson.dumps(with_unknown_fields()), {}, max_events=10)

    assert refused.value.status == 422
    assert {(error.field, error.reason) for error in refused.value.errors} == {
        ("data.due_att", "Extra inputs are not permitted"),
        ("data.applicant.phone_number", "Extra inputs are not permitted"),
    }


def test_the_type_is_named_with_the_known_types_when_it_is_unknown_or_missing() -> None:
    unknown = {**dossier_event("dossier.accepted"), "type": "vn.gov.dvc.dossier.teleported"}
    untyped = dossier_event("dossier.paid")
    del untyped["type"]

    with pytest.raises(Rejected) as one:
        decode_body(STRUCTURED, orjson.dumps(unknown), {}, max_events=10)
    with pytest.raises(Rejected) as batch:
        decode_body(BATCH, orjson.dumps([dossier_event("dossier.paid"), untyped]), {}, max_events=10)

    [unknown_error] = one.value.errors
    assert (unknown_error.index, unknown_error.field) == (0, "type")
    assert unknown_error.reason.startswith("unknown event type 'vn.gov.dvc.dossier.teleported'; known types")
    assert "dossier.accepted, dossier.paid" in unknown_error.reason
    assert [error.as_dict() for error in batch.value.errors] == [
        {
            "index": 1,
            "field": "[1].type",
            "reason": "Field required: every event names its `type`, which decides the schema of `data`",
        }
    ]


def _binary_attributes(event: dict[str, Any], **changes: str) -> dict[str, str]:
    return {**{name: event[name] for name in ("specversion", "id", "source", "type", "time")}, **changes}


def test_binary_body_that_is_not_json_is_refused_with_400_and_its_position_when_posted() -> None:
    with pytest.raises(Rejected) as refused:
        binary_event(_binary_attributes(dossier_event("dossier.paid")), b'{"fee_amount": ')

    assert (refused.value.status, refused.value.reason) == (400, "broken_json")
    assert refused.value.extensions == {"line": 1, "column": 16}


def test_binary_errors_name_the_header_or_the_data_field_when_either_is_invalid() -> None:
    event = dossier_event("dossier.paid")
    body = orjson.dumps(event["data"])

    with pytest.raises(Rejected) as bad_header:
        binary_event(_binary_attributes(event, time="not-a-time"), body)
    with pytest.raises(Rejected) as bad_data:
        binary_event(_binary_attributes(event), orjson.dumps({**event["data"], "fee_amount": -5}))
    with pytest.raises(Rejected) as bad_extension:
        binary_event(_binary_attributes(event, Traceparent="x"), body)

    assert [error.as_dict()["field"] for error in bad_header.value.errors] == ["ce-time (header)"]
    assert [error.as_dict() for error in bad_data.value.errors] == [
        {"index": 0, "field": "data.fee_amount", "reason": "Input should be greater than or equal to 0"}
    ]
    assert [error.field for error in bad_extension.value.errors] == ["ce-Traceparent (header)"]
    assert binary_event(_binary_attributes(event), body).data.model_dump(mode="json") == event["data"]


def test_message_id_differs_when_one_id_comes_from_two_sources() -> None:
    event = dossier_event("dossier.accepted")

    assert message_id(event["source"], event["id"]) != message_id(OTHER_SOURCE, event["id"])


def test_media_type_accepts_any_spelling_of_utf8_when_parameters_follow() -> None:
    spellings = ['application/json; charset="UTF-8"; profile=x', "application/json;charset=utf8", "application/json"]

    assert [media_type_of(value) for value in spellings] == ["application/json"] * 3
    with pytest.raises(Rejected) as latin:
        media_type_of('application/json; profile=x; charset="latin1"')
    assert latin.value.status == 415


def test_only_ce_headers_become_attributes_and_only_http_ones_are_percent_decoded_when_read() -> None:
    headers = {"ce-specversion": "1.0", "ce-subject": "H%C6%A0-1", "content-type": "application/json", "ce-": "x"}

    assert ce_attributes(headers, percent_encoded=False) == {"specversion": "1.0", "subject": "H%C6%A0-1"}


def test_binary_body_error_says_where_the_json_breaks_when_it_is_not_json() -> None:
    with pytest.raises(Rejected) as refused:
        binary_event(_binary_attributes(dossier_event("dossier.paid")), b'{"fee_amount": ')

    assert refused.value.detail.startswith("the body (the event's data) is not valid JSON: ")
    assert refused.value.detail.endswith(" at line 1 column 16")

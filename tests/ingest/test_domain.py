"""Pure rules of the ingest: key scopes, CSV mapping, media types and error locations."""

from __future__ import annotations

import pytest

from services.ingest.domain.csv_mapping import CsvRowError, check_header, row_to_event
from services.ingest.domain.keys import KeySpec, forbidden_sources
from services.ingest.domain.validation import Rejected, ce_attributes, decode_body, media_type_of
from services.runtime.api_keys import bearer_token, hash_key


def test_key_allows_exact_sources_and_prefixes_when_patterns_end_with_a_star() -> None:
    spec = KeySpec(name="k", sha256=hash_key("secret"), sources=("urn:pay:gateway", "urn:dvc:lam-thao:*"))

    allowed = [spec.allows(source) for source in ("urn:pay:gateway", "urn:dvc:lam-thao:one-stop", "urn:dvc:lam-thao:")]
    refused = [spec.allows(source) for source in ("urn:pay:gateway:2", "urn:dvc:other", "URN:PAY:GATEWAY")]

    assert allowed == [True, True, True]
    assert refused == [False, False, False]
    assert forbidden_sources(spec, ["urn:dvc:b", "urn:pay:gateway", "urn:dvc:a", "urn:dvc:b"]) == [
        "urn:dvc:a",
        "urn:dvc:b",
    ]


def test_bearer_token_is_read_only_when_the_scheme_is_bearer() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer   abc ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer") is None
    assert bearer_token(None) is None


def test_csv_row_fills_nested_data_and_defaults_when_cells_are_left_empty() -> None:
    header = check_header(["id", "type", "data.dossier_code", "applicant.name", "applicant.kind", "fee_amount", "note"])

    event = row_to_event(header, ["r-1", "dossier.paid", "H-1", "Lê Thị Hoa", "citizen", "", " "])

    assert event["type"] == "vn.gov.dvc.dossier.paid"
    assert event["specversion"] == "1.0"
    assert event["subject"] == "H-1"
    assert event["data"] == {"dossier_code": "H-1", "applicant": {"name": "Lê Thị Hoa", "kind": "citizen"}}


def test_csv_header_and_rows_are_refused_when_columns_conflict_or_repeat() -> None:
    with pytest.raises(CsvRowError, match="repeated column"):
        check_header(["id", "id"])
    with pytest.raises(CsvRowError, match="both a value and a group"):
        row_to_event(["applicant", "applicant.name"], ["x", "Lê Thị Hoa"])
    with pytest.raises(CsvRowError, match="3 cells for 2 columns"):
        row_to_event(["id", "type"], ["a", "b", "c"])


def test_media_type_ignores_parameters_when_the_charset_is_utf8() -> None:
    assert media_type_of("Application/CloudEvents+JSON; charset=UTF-8") == "application/cloudevents+json"
    with pytest.raises(Rejected) as refused:
        media_type_of("application/json; charset=iso-8859-1")
    assert refused.value.status == 415


def test_ce_headers_switch_to_binary_mode_only_when_specversion_is_present() -> None:
    assert ce_attributes({"ce-traceparent": "00-1"}, percent_encoded=True) == {}
    assert ce_attributes({"ce-specversion": "1.0", "ce-subject": "H%C6%A0-1"}, percent_encoded=True) == {
        "specversion": "1.0",
        "subject": "HƠ-1",
    }


def test_non_array_batch_is_refused_with_the_body_located_when_an_object_is_sent_as_a_batch() -> None:
    with pytest.raises(Rejected) as refused:
        decode_body("application/cloudevents-batch+json", b'{"id": "x"}', {}, max_events=10)

    assert refused.value.status == 422
    assert [(error.field, error.reason) for error in refused.value.errors] == [("(body)", "not an array")]

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
from nats.js import JetStreamContext

from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.ingest.conftest import (
    BATCH,
    COMMUNE_KEY,
    GATEWAY_KEY,
    STRUCTURED,
    headers,
    make_settings,
    post_events,
    running_app,
    stream_count,
)


@pytest.fixture
async def small_ingest(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """Limits small enough to reach in a test: 4 KiB bodies, 3 events per batch."""
    settings = make_settings(nats_server.url, tmp_path, max_body_bytes=4096, max_batch_events=3)
    async with running_app(settings) as client:
        yield client


def _problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, object] = response.json()
    assert problem["status"] == status
    return problem


async def test_request_is_refused_with_401_when_the_key_is_missing_or_unknown(ingest: httpx.AsyncClient) -> None:
    body = orjson.dumps(dossier_event("dossier.accepted"))

    missing = await ingest.post("/v1/events", content=body, headers={"content-type": STRUCTURED})
    unknown = await ingest.post("/v1/events", content=body, headers=headers(key="dvcik_not-a-key"))
    not_bearer = await ingest.post(
        "/v1/events", content=body, headers={"content-type": STRUCTURED, "authorization": f"Basic {COMMUNE_KEY}"}
    )

    assert "Authorization: Bearer" in str(_problem(missing, 401)["detail"])
    assert _problem(unknown, 401)["detail"] == "unknown ingest key"
    assert _problem(not_bearer, 401)["code"] == "unauthorized"
    assert missing.headers["www-authenticate"].startswith("Bearer")


async def test_request_is_refused_with_403_naming_the_source_when_the_key_may_not_send_it(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    before = await stream_count(jetstream)
    allowed = dossier_event("dossier.paid", source="urn:pay:gateway")
    foreign = dossier_event("dossier.paid", source="urn:dvc:lam-thao:one-stop")

    response = await ingest.post(
        "/v1/events", content=orjson.dumps([allowed, foreign]), headers=headers(BATCH, key=GATEWAY_KEY)
    )

    problem = _problem(response, 403)
    assert "'urn:dvc:lam-thao:one-stop'" in str(problem["detail"])
    assert "'payments'" in str(problem["detail"])
    assert problem["forbidden_sources"] == ["urn:dvc:lam-thao:one-stop"]
    assert await stream_count(jetstream) == before


async def test_body_over_the_limit_is_refused_with_413_when_declared_or_streamed(
    small_ingest: httpx.AsyncClient,
) -> None:
    oversized = b"[" + b" " * 5000 + b"]"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(oversized), 1000):
            yield oversized[start : start + 1000]

    declared = await small_ingest.post("/v1/events", content=oversized, headers=headers(BATCH))
    streamed = await small_ingest.post("/v1/events", content=chunks(), headers=headers(BATCH))

    assert "4096 bytes" in str(_problem(declared, 413)["detail"])
    assert "content-length" not in streamed.request.headers
    assert _problem(streamed, 413)["max_bytes"] == 4096


async def test_batch_over_the_event_limit_is_refused_with_413_when_it_holds_too_many_events(
    small_ingest: httpx.AsyncClient,
) -> None:
    events = [dossier_event("dossier.returned") for _ in range(4)]

    response = await post_events(small_ingest, events, BATCH)

    problem = _problem(response, 413)
    assert problem["detail"] == "the batch holds 4 events; at most 3 per request"


async def test_wrong_content_type_is_refused_with_415_when_not_cloudevents_or_json(ingest: httpx.AsyncClient) -> None:
    body = orjson.dumps(dossier_event("dossier.accepted"))

    text = await ingest.post("/v1/events", content=body, headers=headers("text/plain"))
    latin = await ingest.post("/v1/events", content=body, headers=headers("application/json; charset=latin-1"))
    binary_xml = await ingest.post(
        "/v1/events", content=b"<data/>", headers=headers("application/xml", **{"ce-specversion": "1.0"})
    )
    absent = await ingest.post("/v1/events", content=body, headers={"authorization": f"Bearer {COMMUNE_KEY}"})

    assert "application/cloudevents+json" in str(_problem(text, 415)["detail"])
    assert "UTF-8" in str(_problem(latin, 415)["detail"])
    assert "binary mode" in str(_problem(binary_xml, 415)["detail"])
    assert "Content-Type" in str(_problem(absent, 415)["detail"])


async def test_broken_json_is_refused_with_400_giving_line_and_column_when_the_body_does_not_parse(
    ingest: httpx.AsyncClient,
) -> None:
    broken = b'[\n  {"specversion": "1.0",\n   "id": }\n]'

    response = await ingest.post("/v1/events", content=broken, headers=headers(BATCH))
    binary = await ingest.post(
        "/v1/events",
        content=b'{"reason": "Thi\xe1\xba\xbfu h\xe1\xbb\x93 s\xc6\xa1",',
        headers=headers("application/json", **{"ce-specversion": "1.0", "ce-id": "b-1"}),
    )

    problem = _problem(response, 400)
    assert (problem["line"], problem["column"]) == (3, 10)
    assert "line 3 column 10" in str(problem["detail"])
    assert "not valid JSON" in str(_problem(binary, 400)["detail"])


async def test_invalid_batch_lists_every_error_with_index_and_field_when_nothing_is_published(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    before = await stream_count(jetstream)
    valid = dossier_event("dossier.submitted")
    long_phone = dossier_event("dossier.submitted")
    long_phone["data"]["applicant"]["phone"] = "0" * 40
    unknown_type = {**dossier_event("dossier.paid"), "type": "vn.gov.dvc.dossier.archived"}
    naive_time = dossier_event("dossier.paid", time="2026-03-02T08:15:00")
    no_type = dossier_event("dossier.returned")
    del no_type["type"]

    response = await post_events(ingest, [valid, long_phone, unknown_type, naive_time, no_type], BATCH)

    problem = _problem(response, 422)
    errors = {(error["index"], error["field"]): error["reason"] for error in problem["errors"]}  # type: ignore[attr-defined]
    assert set(errors) == {(1, "[1].data.applicant.phone"), (2, "[2].type"), (3, "[3].time"), (4, "[4].type")}
    assert "at most 32 characters" in errors[(1, "[1].data.applicant.phone")]
    assert "'vn.gov.dvc.dossier.archived'" in errors[(2, "[2].type")]
    assert "known types (vn.gov.dvc.*): document.completed, dossier.accepted," in errors[(2, "[2].type")]
    assert "timezone" in errors[(3, "[3].time")]
    assert "vn.gov.dvc.dossier.accepted" in problem["known_types"]  # type: ignore[operator]
    assert "4 invalid event(s); nothing was accepted" in str(problem["detail"])
    assert await stream_count(jetstream) == before


async def test_binary_mode_errors_name_the_header_when_an_attribute_is_missing(ingest: httpx.AsyncClient) -> None:
    event = dossier_event("dossier.returned")
    response = await ingest.post(
        "/v1/events",
        content=orjson.dumps({**event["data"], "delivery": "drone"}),
        headers=headers("application/json", **{"ce-specversion": "1.0", "ce-source": event["source"]})
        | {"ce-type": event["type"], "ce-time": event["time"]},
    )

    fields = {error["field"] for error in _problem(response, 422)["errors"]}  # type: ignore[attr-defined]
    assert fields == {"ce-id (header)", "data.delivery"}


async def test_structured_event_with_a_bad_extension_name_is_refused_when_it_is_not_lowercase(
    ingest: httpx.AsyncClient,
) -> None:
    event = {**dossier_event("dossier.accepted"), "TraceParent": "00-abc"}

    response = await post_events(ingest, event)

    assert [error["field"] for error in _problem(response, 422)["errors"]] == ["TraceParent"]  # type: ignore[attr-defined]

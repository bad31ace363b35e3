from __future__ import annotations

import unicodedata

import httpx
import orjson
from nats.js import JetStreamContext

from services.contracts.events import message_id, parse_event, serialize_event
from services.contracts.partitioning import stored_event_subject
from tests.factories import dossier_event, procedure_published
from tests.ingest.conftest import BATCH, post_events, stream_count


async def test_structured_event_is_stored_under_its_identity_when_the_key_allows_its_source(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    event = dossier_event("dossier.accepted")

    response = await post_events(ingest, event)

    assert response.status_code == 202
    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (1, 0)
    result = body["results"][0]
    assert (result["id"], result["source"], result["status"]) == (event["id"], event["source"], "accepted")
    stored = await jetstream.get_msg("DVC_EVENTS", result["stream_sequence"])
    assert stored.subject == stored_event_subject(parse_event(event))
    assert stored.headers is not None
    assert stored.headers["Nats-Msg-Id"] == message_id(event["source"], event["id"])
    assert stored.data == serialize_event(parse_event(event))


async def test_vietnamese_text_is_stored_byte_exact_when_posted_in_nfc_and_nfd(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    name_nfc = unicodedata.normalize("NFC", "Nguyễn Thị Hồng Nhung")
    reason_nfd = unicodedata.normalize("NFD", "Thiếu bản sao giấy khai sinh, đề nghị bổ sung")
    submitted = dossier_event("dossier.submitted")
    submitted["data"]["applicant"]["name"] = name_nfc
    supplement = dossier_event("dossier.supplement_requested", reason=reason_nfd)

    response = await post_events(ingest, [submitted, supplement], BATCH)

    assert response.status_code == 202
    sequences = [result["stream_sequence"] for result in response.json()["results"]]
    stored_submitted = (await jetstream.get_msg("DVC_EVENTS", sequences[0])).data
    stored_supplement = (await jetstream.get_msg("DVC_EVENTS", sequences[1])).data
    assert stored_submitted is not None
    assert stored_supplement is not None
    assert name_nfc.encode() in stored_submitted
    assert reason_nfd.encode() in stored_supplement
    assert b"\\u" not in stored_submitted + stored_supplement
    assert orjson.loads(stored_submitted)["data"]["applicant"]["name"] == name_nfc
    assert orjson.loads(stored_supplement)["data"]["reason"] == reason_nfd


async def test_same_event_is_stored_once_and_reported_duplicate_when_sent_twice(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    event = dossier_event("dossier.paid")
    before = await stream_count(jetstream)

    first = await post_events(ingest, event)
    second = await post_events(ingest, event)

    assert await stream_count(jetstream) == before + 1
    assert second.status_code == 202
    assert (second.json()["accepted"], second.json()["duplicates"]) == (0, 1)
    assert second.json()["results"][0]["status"] == "duplicate"
    assert second.json()["results"][0]["stream_sequence"] == first.json()["results"][0]["stream_sequence"]


async def test_batch_results_follow_the_request_order_when_some_events_are_already_stored(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    known = dossier_event("dossier.submitted")
    await post_events(ingest, known)
    batch = [dossier_event("dossier.accepted"), known, procedure_published(), dossier_event("dossier.returned")]

    response = await post_events(ingest, batch, BATCH)

    assert response.status_code == 202
    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (3, 1)
    assert [result["id"] for result in body["results"]] == [event["id"] for event in batch]
    assert [result["status"] for result in body["results"]] == ["accepted", "duplicate", "accepted", "accepted"]
    fresh = [body["results"][i]["stream_sequence"] for i in (0, 2, 3)]
    assert fresh == sorted(fresh)
    stored = await jetstream.get_msg("DVC_EVENTS", fresh[1])
    assert stored.subject == stored_event_subject(parse_event(batch[2]))


async def test_plain_json_takes_one_event_or_an_array_when_content_type_is_application_json(
    ingest: httpx.AsyncClient,
) -> None:
    one = await post_events(ingest, dossier_event("dossier.withdrawn"), "application/json; charset=utf-8")
    many = await post_events(
        ingest, [dossier_event("dossier.stopped"), dossier_event("dossier.rejected")], "application/json"
    )

    assert one.status_code == 202
    assert one.json()["accepted"] == 1
    assert many.status_code == 202
    assert many.json()["accepted"] == 2


async def test_binary_mode_event_is_stored_with_header_attributes_when_ce_headers_are_sent(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    event = dossier_event("dossier.rescheduled")
    response = await ingest.post(
        "/v1/events",
        content=orjson.dumps(event["data"]),
        headers={
            "authorization": "Bearer dvcik_test-commune-key",
            "content-type": "application/json",
            "ce-specversion": "1.0",
            "ce-id": event["id"],
            "ce-source": event["source"],
            "ce-type": event["type"],
            "ce-time": event["time"],
            "ce-subject": "H%C6%A0-2026-0001",
            "ce-traceparent": "00-abc-01",
        },
    )

    assert response.status_code == 202, response.text
    stored = await jetstream.get_msg("DVC_EVENTS", response.json()["results"][0]["stream_sequence"])
    assert stored.data is not None
    document = orjson.loads(stored.data)
    assert document["subject"] == "HƠ-2026-0001"
    assert document["traceparent"] == "00-abc-01"
    assert document["data"]["reason"] == event["data"]["reason"]
    assert document["datacontenttype"] == "application/json"


async def test_metrics_count_events_by_type_and_outcome_when_events_are_posted(ingest: httpx.AsyncClient) -> None:
    event = dossier_event("dossier.processed")
    await post_events(ingest, event)
    await post_events(ingest, event)
    await post_events(ingest, [event, {**event, "id": "x", "type": "vn.gov.dvc.nope"}], BATCH)

    metrics = (await ingest.get("/metrics")).text

    assert (
        'dvc_ingest_events_total{ingress="http",outcome="accepted",reason="",type="dossier.processed"} 1.0' in metrics
    )
    assert (
        'dvc_ingest_events_total{ingress="http",outcome="duplicate",reason="",type="dossier.processed"} 1.0' in metrics
    )
    assert 'dvc_ingest_events_total{ingress="http",outcome="rejected",reason="invalid",type="unknown"} 1.0' in metrics
    assert 'dvc_ingest_rejected_requests_total{ingress="http",reason="invalid"} 1.0' in metrics
    assert 'dvc_ingest_batch_events_count{ingress="http"} 2.0' in metrics
    assert 'dvc_ingest_publish_seconds_count{ingress="http"} 2.0' in metrics
    assert 'dvc_http_requests_total{method="POST",route="/v1/events",service="ingest",status="202"} 2.0' in metrics
    assert "Nguyễn" not in metrics


async def test_openapi_and_asyncapi_describe_both_ingresses_when_requested(ingest: httpx.AsyncClient) -> None:
    openapi = (await ingest.get("/openapi.json")).json()
    asyncapi = (await ingest.get("/asyncapi.json")).json()
    docs = await ingest.get("/docs")

    operation = openapi["paths"]["/v1/events"]["post"]
    assert set(operation["requestBody"]["content"]) == {
        "application/cloudevents+json",
        "application/cloudevents-batch+json",
        "application/json",
    }
    assert {"202", "400", "401", "403", "413", "415", "422", "503"} <= set(operation["responses"])
    assert [channel["address"] for channel in asyncapi["channels"].values()] == ["dvc.ingest"]
    assert docs.status_code == 200

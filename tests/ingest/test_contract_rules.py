"""Contract rules over the running ingest: unknown fields answer 422 over HTTP and NATS, and one id from two
sources is stored as two events."""

from __future__ import annotations

import httpx
import orjson
from nats.aio.client import Client
from nats.js import JetStreamContext

from tests.factories import dossier_event
from tests.ingest.conftest import BATCH, COMMUNE_KEY, post_events, stream_count
from tests.ingest.test_contract_validation import OTHER_SOURCE, with_unknown_fields


async def test_http_ingest_answers_422_naming_the_unknown_field_when_data_carries_one(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    before = await stream_count(jetstream)

    response = await post_events(ingest, [dossier_event("dossier.paid"), with_unknown_fields()], BATCH)

    assert response.status_code == 422, response.text
    assert {(error["index"], error["field"]) for error in response.json()["errors"]} == {
        (1, "[1].data.due_att"),
        (1, "[1].data.applicant.phone_number"),
    }
    assert await stream_count(jetstream) == before


async def test_nats_ingress_replies_422_naming_the_unknown_field_when_data_carries_one(
    ingest: httpx.AsyncClient, nats_client: Client, jetstream: JetStreamContext
) -> None:
    before = await stream_count(jetstream)

    reply = await nats_client.request(
        "dvc.ingest",
        orjson.dumps(with_unknown_fields()),
        timeout=5,
        headers={"Authorization": f"Bearer {COMMUNE_KEY}"},
    )

    document = orjson.loads(reply.data)
    assert document["status"] == 422
    assert {error["field"] for error in document["errors"]} == {"data.due_att", "data.applicant.phone_number"}
    assert await stream_count(jetstream) == before


async def test_one_id_from_two_sources_is_stored_as_two_events_when_both_are_posted(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    first = dossier_event("dossier.accepted")
    second = dossier_event("dossier.accepted", event_id=first["id"], source=OTHER_SOURCE)

    response = await post_events(ingest, [first, second], BATCH)

    body = response.json()
    assert (response.status_code, body["accepted"], body["duplicates"]) == (202, 2, 0), response.text
    sequences = [result["stream_sequence"] for result in body["results"]]
    stored = [orjson.loads((await jetstream.get_msg("DVC_EVENTS", sequence)).data or b"") for sequence in sequences]
    assert [(event["source"], event["id"]) for event in stored] == [
        (first["source"], first["id"]),
        (OTHER_SOURCE, first["id"]),
    ]

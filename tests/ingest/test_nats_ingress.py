from __future__ import annotations

from typing import Any

import httpx
import orjson
from nats.aio.client import Client
from nats.js import JetStreamContext

from services.contracts.events import parse_event
from services.contracts.partitioning import stored_event_subject
from tests.factories import dossier_event
from tests.ingest.conftest import COMMUNE_KEY, GATEWAY_KEY, stream_count

AUTH = {"Authorization": f"Bearer {COMMUNE_KEY}"}


async def _request(client: Client, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    reply = await client.request("dvc.ingest", raw, timeout=5, headers=headers)
    document: dict[str, Any] = orjson.loads(reply.data)
    return document


async def test_nats_request_stores_the_batch_and_replies_like_http_when_the_key_is_valid(
    ingest: httpx.AsyncClient, nats_client: Client, jetstream: JetStreamContext
) -> None:
    events = [dossier_event("dossier.accepted"), dossier_event("dossier.transferred")]

    reply = await _request(nats_client, events, AUTH)
    again = await _request(nats_client, events[0], AUTH)

    assert (reply["status"], reply["accepted"], reply["duplicates"]) == (202, 2, 0)
    assert [result["id"] for result in reply["results"]] == [event["id"] for event in events]
    stored = await jetstream.get_msg("DVC_EVENTS", reply["results"][1]["stream_sequence"])
    assert stored.subject == stored_event_subject(parse_event(events[1]))
    assert (again["status"], again["duplicates"], again["results"][0]["status"]) == (202, 1, "duplicate")


async def test_nats_request_gets_the_http_problem_with_status_when_it_is_refused(
    ingest: httpx.AsyncClient, nats_client: Client, jetstream: JetStreamContext
) -> None:
    before = await stream_count(jetstream)
    bad = dossier_event("dossier.paid", fee_amount=-5)

    anonymous = await _request(nats_client, dossier_event("dossier.paid"))
    invalid = await _request(nats_client, [dossier_event("dossier.paid"), bad], AUTH)
    forbidden = await _request(nats_client, dossier_event("dossier.paid"), {"Authorization": f"Bearer {GATEWAY_KEY}"})
    broken = await _request(nats_client, b'{"id": ', AUTH)

    assert (anonymous["status"], anonymous["code"]) == (401, "unauthorized")
    assert invalid["status"] == 422
    assert [(error["index"], error["field"]) for error in invalid["errors"]] == [(1, "[1].data.fee_amount")]
    assert forbidden["status"] == 403
    assert forbidden["forbidden_sources"] == ["urn:dvc:lam-thao:one-stop"]
    assert (broken["status"], broken["code"]) == (400, "broken_json")
    assert await stream_count(jetstream) == before


async def test_nats_request_in_binary_mode_is_stored_when_ce_headers_carry_the_attributes(
    ingest: httpx.AsyncClient, nats_client: Client, jetstream: JetStreamContext
) -> None:
    event = dossier_event("dossier.withdrawn")
    attributes = {f"ce-{name}": event[name] for name in ("specversion", "id", "source", "type", "time")}

    reply = await _request(nats_client, event["data"], {**AUTH, **attributes})

    assert reply["status"] == 202
    stored = await jetstream.get_msg("DVC_EVENTS", reply["results"][0]["stream_sequence"])
    assert stored.data is not None
    assert orjson.loads(stored.data)["data"]["reason"] == "Công dân rút hồ sơ"

"""Issue 11 at the ingest, end to end on a real nats-server: future-dated events, identity collisions, events
larger than the server's max_payload. Every way in (HTTP, NATS request-reply, file import) answers alike."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from nats.aio.client import Client
from nats.js import JetStreamContext
from typer.testing import CliRunner

from services.contracts.events import message_id
from services.ingest.entrypoints.cli import TOP_LEVEL_COMMANDS
from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.ingest.conftest import BATCH, COMMUNE_KEY, make_settings, post_events, running_app, stream_count

MIB = 1024 * 1024
runner = CliRunner()


def _unique(short_type: str = "dossier.paid", **overrides: Any) -> dict[str, Any]:
    overrides.setdefault("event_id", f"evt-{uuid.uuid4().hex}")
    return dossier_event(short_type, **overrides)


def _huge() -> dict[str, Any]:
    """2 MiB through an extension attribute (a string of any length): twice the default max_payload."""
    return {**_unique(), "note": "x" * (2 * MIB)}


def _future(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def test_future_dated_event_is_refused_with_422_naming_time_when_it_is_400_days_ahead(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    before = await stream_count(jetstream)
    sms_in_2028 = _unique("dossier.accepted", time=_future(400), due_at=_future(403))

    response = await post_events(ingest, sms_in_2028)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid"
    assert [(error["index"], error["field"]) for error in problem["errors"]] == [(0, "time")]
    assert "never in the future" in problem["errors"][0]["reason"]
    assert await stream_count(jetstream) == before


async def test_batch_is_refused_listing_every_implausible_date_when_some_events_break_the_time_rules(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    before = await stream_count(jetstream)
    batch = [
        _unique(),
        _unique(time="1999-12-31T23:59:59+07:00"),
        _unique("dossier.accepted", time="2026-03-02T08:15:00+07:00", due_at="2026-03-01T17:00:00+07:00"),
        _unique("dossier.rescheduled", time="2026-03-02T08:15:00+07:00", new_due_at="2036-03-03T08:15:00+07:00"),
        _unique(time="0001-01-01T00:00:00+14:00"),
    ]

    response = await post_events(ingest, batch, BATCH)

    assert response.status_code == 422
    errors = [(error["index"], error["field"]) for error in response.json()["errors"]]
    assert errors == [(1, "[1].time"), (2, "[2].data.due_at"), (3, "[3].data.new_due_at"), (4, "[4].time")]
    assert await stream_count(jetstream) == before


async def test_event_a_minute_ahead_with_a_due_date_years_away_is_accepted_when_within_the_rules(
    ingest: httpx.AsyncClient,
) -> None:
    event = _unique("dossier.accepted", time=_future(1 / 1440), due_at=_future(9 * 365))

    response = await post_events(ingest, event)

    assert response.status_code == 202, response.text


async def test_future_tolerance_follows_the_setting_when_an_operator_widens_it(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    settings = make_settings(nats_server.url, tmp_path, future_tolerance_seconds=3600, due_horizon_years=1)
    async with running_app(settings) as client:
        half_hour_ahead = await post_events(client, _unique(time=_future(1 / 48)))
        due_in_two_years = await post_events(client, _unique("dossier.accepted", time=_future(0), due_at=_future(730)))

    assert half_hour_ahead.status_code == 202, half_hour_ahead.text
    assert due_in_two_years.status_code == 422
    assert due_in_two_years.json()["errors"][0]["field"] == "data.due_at"


async def test_nats_request_is_refused_with_the_same_reason_when_the_event_is_future_dated(
    ingest: httpx.AsyncClient, nats_client: Client, jetstream: JetStreamContext
) -> None:
    before = await stream_count(jetstream)
    body = orjson.dumps(_unique(time=_future(400)))

    reply = orjson.loads(
        (
            await nats_client.request("dvc.ingest", body, timeout=5, headers={"Authorization": f"Bearer {COMMUNE_KEY}"})
        ).data
    )

    assert (reply["status"], reply["code"]) == (422, "invalid")
    assert reply["errors"][0]["field"] == "time"
    assert "never in the future" in reply["errors"][0]["reason"]
    assert await stream_count(jetstream) == before


async def _import(nats_server: EmbeddedNats, var_dir: Path, path: Path) -> Any:
    cli = __import__("typer").Typer()
    cli.command("import")(TOP_LEVEL_COMMANDS["import"])
    cli.command("unused")(lambda: None)
    env = {"DVC_VAR_DIR": str(var_dir), "COLUMNS": "250"}
    args = ["import", str(path), "--nats-url", nats_server.url]
    return await asyncio.to_thread(runner.invoke, cli, args, env=env)


async def test_import_rejects_the_line_with_the_same_reason_when_an_event_is_future_dated_or_too_large(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    lines = [_unique(), _unique(time=_future(400)), _huge(), _unique()]
    path = tmp_path / "history.ndjson"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    before = await stream_count(jetstream)

    result = await _import(nats_server, tmp_path / "var", path)

    assert result.exit_code == 3, result.output
    assert await stream_count(jetstream) == before + 2
    assert f"{path}: 2 accepted, 0 duplicate (already in DVC_EVENTS), 2 rejected line(s)" in result.output
    assert "line 2: time: is after " in result.output
    assert "line 3: (event): 2097" in result.output


async def test_both_events_are_stored_and_counted_when_source_and_id_joined_by_a_colon_would_collide(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    first = dossier_event("dossier.paid", source="urn:dvc:a:b", event_id="1")
    second = dossier_event("dossier.paid", source="urn:dvc:a", event_id="b:1")
    before = await stream_count(jetstream)

    answers = [await post_events(ingest, event) for event in (first, second)]

    assert [answer.status_code for answer in answers] == [202, 202]
    results = [answer.json()["results"][0] for answer in answers]
    assert [result["status"] for result in results] == ["accepted", "accepted"]
    assert results[0]["stream_sequence"] != results[1]["stream_sequence"]
    assert await stream_count(jetstream) == before + 2
    stored = [await jetstream.get_msg("DVC_EVENTS", result["stream_sequence"]) for result in results]
    assert [message.headers["Nats-Msg-Id"] for message in stored if message.headers] == [
        message_id(first["source"], "1"),
        message_id(second["source"], "b:1"),
    ]
    metrics = (await ingest.get("/metrics")).text
    assert 'dvc_ingest_events_total{ingress="http",outcome="accepted",reason="",type="dossier.paid"} 2.0' in metrics


async def test_control_characters_in_the_id_are_refused_with_422_naming_the_field_when_posted(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    before = await stream_count(jetstream)

    response = await post_events(ingest, _unique(event_id="evt-1\r\nNats-Msg-Id: other"))

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["id"]
    assert await stream_count(jetstream) == before


async def test_event_over_max_payload_is_refused_with_413_naming_size_and_limit_when_it_is_2_mib(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    before = await stream_count(jetstream)
    huge = _huge()

    single = await post_events(ingest, huge)
    batch = await post_events(ingest, [_unique(), huge], BATCH)
    after = await post_events(ingest, _unique())

    assert single.status_code == 413
    assert single.headers["content-type"] == "application/problem+json"
    assert "retry-after" not in single.headers
    problem = single.json()
    assert (problem["code"], problem["max_payload"], problem["max_event_bytes"]) == (
        "event_too_large",
        MIB,
        MIB - 4096,
    )
    assert problem["errors"][0]["field"] == "(event)"
    assert problem["errors"][0]["reason"].startswith("2097")
    assert f"at most {MIB - 4096} bytes" in problem["detail"]
    assert (batch.status_code, [error["field"] for error in batch.json()["errors"]]) == (413, ["[1]"])
    assert after.status_code == 202, "the connection to NATS survived"
    assert await stream_count(jetstream) == before + 1
    metrics = (await ingest.get("/metrics")).text
    assert 'dvc_ingest_rejected_requests_total{ingress="http",reason="event_too_large"} 2.0' in metrics
    assert 'route="/v1/events",service="ingest",status="503"' not in metrics

"""Targeted fuzzing where schemathesis' generation cannot reach from the OpenAPI documents: query dates declared
as plain strings (any year, any offset), and writes without a key whatever their body (401 first)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from services.runtime.nats.embedded import EmbeddedNats
from tests.fuzz.checks import problem_of
from tests.fuzz.contract_strategies import VALID_EVENTS, mutated_events
from tests.fuzz.known_issues import known_issue
from tests.fuzz.services import (
    OUTBOX_TOKEN,
    ServedApp,
    fuzz_database,
    indicators_app,
    ingest_app,
    notifier_app,
    tasks_app,
)
from tests.fuzz.settings import TIMEOUT, hypothesis_fuzz

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(TIMEOUT)]


def unexcused(service: str, operation: str, response: httpx.Response, expected: int | None = None) -> list[str]:
    """What is wrong with `response` that no branch in flight fixes (tests/fuzz/known_issues.py)."""
    failures: list[tuple[str, str]] = []
    if response.status_code >= 500:
        failures.append(("not_a_server_error", f"{response.status_code}: {response.text[:200]}"))
    problem = problem_of(response.status_code, response.headers.get("content-type", ""), response.content)
    if problem is not None:
        failures.append(("rejections_are_problem_documents", problem))
    if expected is not None and response.status_code != expected:
        failures.append(("unauthenticated_is_401", f"{response.status_code} instead of {expected}"))
    url = str(response.request.url)
    new = [(check, why) for check, why in failures if known_issue(service, operation, check) is None]
    return [f"{operation} [{check}] {why} ({url})" for check, why in new]


@pytest.fixture(scope="module")
def indicators(fuzz_nats: EmbeddedNats, fuzz_var: Path) -> Iterator[ServedApp]:
    var = fuzz_var / "probes"
    with fuzz_database(fuzz_var, "probes") as database, indicators_app(fuzz_nats.url, var, database).running() as app:
        yield app


offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
query_dates = (
    st.dates().map(date.isoformat)
    | st.builds(datetime.isoformat, st.datetimes(timezones=offsets | st.none()))
    | st.text(max_size=30)
)
DATE_QUERIES = (
    ("GET /v1/indicators", "/v1/indicators", ("from", "to")),
    ("GET /v1/leaderboard", "/v1/leaderboard", ("from", "to")),
    ("GET /v1/alerts", "/v1/alerts", ("since",)),
)


@hypothesis_fuzz()
@given(first=query_dates, second=query_dates | st.none(), chosen=st.sampled_from(DATE_QUERIES))
@example(first="2026-01-01", second="2027-01-01", chosen=DATE_QUERIES[0])
def test_indicators_answer_without_server_error_when_query_dates_are_any_text(
    indicators: ServedApp, first: str, second: str | None, chosen: tuple[str, str, tuple[str, ...]]
) -> None:
    operation, path, names = chosen
    values = dict(zip(names, (first, second), strict=False))
    response = indicators.client.get(path, params={k: v for k, v in values.items() if v is not None})
    assert unexcused("indicators", operation, response) == []


WRITES = (
    ("tasks", "POST /v1/tasks", "POST", "/v1/tasks"),
    ("tasks", "PATCH /v1/tasks/{task_id}", "PATCH", "/v1/tasks/PL2.NV3"),
    ("tasks", "POST /v1/tasks/{task_id}/reports", "POST", "/v1/tasks/PL2.NV3/reports"),
    ("tasks", "POST /v1/indicators/{number}/reports", "POST", "/v1/indicators/5/reports"),
    ("notifier", "POST /v1/opt-outs", "POST", "/v1/opt-outs"),
    ("notifier", "GET /v1/notifications", "GET", "/v1/notifications"),
    ("ingest", "POST /v1/events", "POST", "/v1/events"),
)
bodies = st.one_of(
    st.binary(max_size=60),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20), lambda c: st.lists(c, max_size=3))
    .map(json.dumps)
    .map(str.encode),
)


@pytest.fixture(scope="module")
def writers(fuzz_nats: EmbeddedNats, fuzz_var: Path) -> Iterator[dict[str, ServedApp]]:
    var = fuzz_var / "writers"
    with (
        fuzz_database(fuzz_var, "writers_tasks") as tasks_database,
        fuzz_database(fuzz_var, "writers_notifier") as notifier_database,
        tasks_app(fuzz_nats.url, var, tasks_database).running() as tasks,
        notifier_app(fuzz_nats.url, var, notifier_database).running() as notifier,
        ingest_app(fuzz_nats.url, var).running() as ingest,
    ):
        yield {"tasks": tasks, "notifier": notifier, "ingest": ingest}


@hypothesis_fuzz(examples_scale=5)
@given(body=bodies, authorization=st.sampled_from([None, "Bearer not-a-key", "Basic eDp5", "Bearer"]))
def test_writes_answer_401_when_the_key_is_missing_or_unknown_whatever_the_body(
    writers: dict[str, ServedApp], body: bytes, authorization: str | None
) -> None:
    headers = {"content-type": "application/json"}
    if authorization is not None:
        headers["authorization"] = authorization
    problems = []
    for service, operation, method, path in WRITES:
        response = writers[service].client.request(method, path, content=body, headers=headers)
        problems += unexcused(service, operation, response, expected=401)
    assert problems == []


provider_bodies = st.one_of(
    bodies,
    st.dictionaries(
        st.sampled_from(["from", "phone", "msisdn", "text", "message", "status", "id", "reference", "RequestId"]),
        st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.just("STOP") | st.just("0912345678"),
        max_size=5,
    )
    .map(json.dumps)
    .map(str.encode),
)


@hypothesis_fuzz(examples_scale=5)
@given(body=provider_bodies, path=st.sampled_from(["/v1/receipts/outbox", "/v1/inbound/outbox"]))
def test_provider_callbacks_answer_without_server_error_when_the_body_is_anything(
    writers: dict[str, ServedApp], body: bytes, path: str
) -> None:
    """The request bodies of receipts and inbound replies are parsed by hand (no schema to fuzz from)."""
    headers = {"content-type": "application/json", "authorization": f"Bearer {OUTBOX_TOKEN}"}
    response = writers["notifier"].client.post(path, content=body, headers=headers)
    operation = "POST /v1/receipts/{provider}" if "receipts" in path else "POST /v1/inbound/{provider}"
    assert unexcused("notifier", operation, response) == []


@hypothesis_fuzz(examples_scale=3)
@given(event=mutated_events(), identity=st.text(min_size=1, max_size=30) | st.sampled_from(["a\r\nb", "ä:ö", " x "]))
@example(event=VALID_EVENTS[0], identity="evt\r\nNats-Msg-Id: other")
def test_ingest_stores_or_refuses_when_a_mutated_event_is_posted(
    writers: dict[str, ServedApp], event: dict[str, Any], identity: str
) -> None:
    """Events near the contract, with any id, through HTTP to JetStream (Nats-Msg-Id is made of source and id)."""
    ingest = writers["ingest"]
    body = json.dumps({**event, "id": identity}).encode()
    headers = {**ingest.headers, "content-type": "application/cloudevents+json"}
    response = ingest.client.post("/v1/events", content=body, headers=headers)
    assert response.status_code in (202, 400, 413, 415, 422), response.text
    assert unexcused("ingest", "POST /v1/events", response) == []

"""The access matrix, generated from each service's OpenAPI document: every operation has an access decision here
(a security scheme, or public on purpose), the document declares the same, and every keyed operation refuses no
key, a wrong key, a revoked key and an expired key with 401, and admits the right key. A new route without a
decision in ACCESS fails `test_every_route_has_an_access_decision_when_the_openapi_document_is_read`.

The scope of a valid key (a source it may not send, a unit that does not own the indicator or task) is decided by
the handlers once the body is read: 403 here for ingest; for tasks see tests/tasks/test_api.py and
test_api_tasks.py (`forbidden`, `other_unit`, `other`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import httpx
import orjson
import pytest
from fastapi import FastAPI

from tests.factories import dossier_event
from tests.security.apps import BUILDERS, OUTBOX_TOKEN, Keys

PUBLIC = "public"
SESSION = "consoleSession"  # an API key in the console's session cookie, not a bearer key
# Routes every service serves without a key: liveness, readiness, metrics (scraped on the internal network),
# the AsyncAPI document. /docs, /redoc and /openapi.json are public too and are not in the OpenAPI document.
OPERATIONS_PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/asyncapi.json")}
ACCESS: dict[str, dict[tuple[str, str], str]] = {
    "ingest": {
        ("POST", "/v1/events"): "producerKey",
        ("POST", "/v1/dvcqg"): "producerKey",
        ("GET", "/v1/dvcqg/unmapped"): "producerKey",  # national procedure codes and names, per source
        ("GET", "/v1/dvcqg/anomalies"): "producerKey",  # dossier codes and statuses, per source
    },
    "indicators": {
        # Aggregates and dossier clocks: agency and officer codes, no names, phones or reporters.
        ("GET", "/v1/indicators"): PUBLIC,
        ("GET", "/v1/leaderboard"): PUBLIC,
        ("GET", "/v1/dossiers/{code}"): PUBLIC,
        ("GET", "/v1/alerts"): PUBLIC,
        ("GET", "/v1/fields"): PUBLIC,  # field names of the procedure catalogue and counts
        ("GET", "/v1/anomalies"): PUBLIC,  # dossier codes and statuses, like /v1/dossiers/{code}
        # Event types, times, due dates, reasons, agency and officer codes; the applicant was never stored.
        ("GET", "/v1/dossiers/{code}/events"): PUBLIC,
    },
    "tasks": {
        ("GET", "/v1/plans"): PUBLIC,  # titles, units and years of the loaded plans
        ("GET", "/v1/plan/indicators"): "tasksKey",  # latest reading with its reporter
        ("GET", "/v1/plan/indicators/{number}"): "tasksKey",
        ("POST", "/v1/indicators/{number}/reports"): "tasksKey",
        ("GET", "/v1/tasks"): "tasksKey",  # last report with its reporter
        ("POST", "/v1/tasks"): "tasksKey",
        ("GET", "/v1/tasks/{task_id}"): "tasksKey",
        ("PATCH", "/v1/tasks/{task_id}"): "tasksKey",
        ("POST", "/v1/tasks/{task_id}/reports"): "tasksKey",
        ("GET", "/v1/reports/plan"): "tasksKey",
        ("GET", "/v1/audit"): "tasksKey",
    },
    "notifier": {
        ("GET", "/v1/notifications"): "operatorKey",
        ("GET", "/v1/notifications/{notification_id}"): "operatorKey",
        ("POST", "/v1/opt-outs"): "operatorKey",
        ("POST", "/v1/receipts/{provider}"): "providerToken",
        ("POST", "/v1/inbound/{provider}"): "providerToken",
        ("GET", "/v1/templates"): PUBLIC,  # template texts with sample data, no person
        ("POST", "/v1/lookup"): "operatorKey",  # the console's citizen lookup: code + last four phone digits
        ("POST", "/v1/alerts/alertmanager"): "operatorKey",  # Alertmanager webhook (officers' SMS)
    },
    # The console's read-through to the other APIs needs an operator's session cookie (signed in with a tasks
    # key); its HTML pages (/, /dang-nhap, /ho-so/{code}, /tra-cuu) are not in the OpenAPI document.
    "console": {("GET", "/api/{service}/{path}"): SESSION},
}
PATH_VALUES = {
    "number": "5",
    "task_id": "PL2.NV1",
    "code": "HS-1",
    "notification_id": "n-1",
    "provider": "outbox",
    "service": "indicators",
    "path": "v1/indicators",
}
REFUSED = ("none", "wrong", "revoked", "expired")


def operations(app: FastAPI) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            found[(method.upper(), path)] = operation
    return found


def schemes_of(operation: dict[str, Any]) -> set[str]:
    return {name for requirement in operation.get("security", []) for name in requirement}


@pytest.fixture(params=sorted(ACCESS))
def service(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, FastAPI, Keys | None]:
    name: str = request.param
    app, keys = BUILDERS[name](tmp_path / name)
    return name, app, keys


def test_every_route_has_an_access_decision_when_the_openapi_document_is_read(
    service: tuple[str, FastAPI, Keys | None],
) -> None:
    name, app, _keys = service
    declared = operations(app)

    undecided = sorted(set(declared) - set(ACCESS[name]) - OPERATIONS_PUBLIC)
    stale = sorted(set(ACCESS[name]) - set(declared))
    assert undecided == [], f"{name}: routes without an access decision in ACCESS: {undecided}"
    assert stale == [], f"{name}: ACCESS lists routes the service no longer has: {stale}"
    for key, operation in declared.items():
        expected = ACCESS[name].get(key, PUBLIC)
        assert schemes_of(operation) == (set() if expected == PUBLIC else {expected}), (name, key)
    schemes = app.openapi().get("components", {}).get("securitySchemes", {})
    used = {scheme for scheme in ACCESS[name].values() if scheme not in (PUBLIC, SESSION)}
    assert {scheme: schemes[scheme]["scheme"] for scheme in used} == dict.fromkeys(used, "bearer")


def _request(name: str, method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    url = re.sub(r"\{(\w+)\}", lambda match: PATH_VALUES[match.group(1)], path)
    if method == "GET":
        return {"method": method, "url": url, "headers": headers}
    body = orjson.dumps(dossier_event("dossier.accepted", "HS-1")) if name == "ingest" else b"{}"
    return {"method": method, "url": url, "headers": {**headers, "content-type": "application/json"}, "content": body}


async def test_every_keyed_route_refuses_missing_wrong_revoked_and_expired_keys_when_called(
    service: tuple[str, FastAPI, Keys | None],
) -> None:
    name, app, keys = service
    keyed = [(key, scheme) for key, scheme in ACCESS[name].items() if scheme not in (PUBLIC, "providerToken", SESSION)]
    if keys is None:
        assert keyed == []
        return
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://matrix") as client:
        for (method, path), _scheme in keyed:
            answers = {}
            for case in REFUSED:
                answers[case] = await client.request(**_request(name, method, path, keys.headers[case]))
            right = await client.request(**_request(name, method, path, keys.headers["right"]))

            for case, answer in answers.items():
                where = f"{name} {method} {path} with {case} key"
                assert answer.status_code == 401, f"{where}: {answer.status_code} {answer.text}"
                assert answer.headers["content-type"] == "application/problem+json", where
                assert answer.headers["www-authenticate"].startswith("Bearer"), where
            assert "revoked" in answers["revoked"].json()["detail"]
            assert "expired" in answers["expired"].json()["detail"]
            assert right.status_code not in (401, 403), f"{name} {method} {path} refused the right key: {right.text}"


async def test_an_event_of_another_source_is_refused_with_403_when_the_key_is_bound_to_other_sources(
    tmp_path: Path,
) -> None:
    app, keys = BUILDERS["ingest"](tmp_path)
    assert keys is not None
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://matrix") as client:
        answer = await client.request(**_request("ingest", "POST", "/v1/events", keys.headers["other"]))

    assert answer.status_code == 403
    assert answer.json()["forbidden_sources"] == ["urn:dvc:lam-thao:one-stop"]


async def test_every_provider_callback_refuses_a_missing_or_wrong_token_when_called(tmp_path: Path) -> None:
    app, _keys = BUILDERS["notifier"](tmp_path)
    callbacks = [key for key, scheme in ACCESS["notifier"].items() if scheme == "providerToken"]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://matrix") as client:
        for method, path in callbacks:
            cases = {
                "none": {},
                "wrong": {"Authorization": "Bearer guess"},
                "operator key": {"Authorization": "Bearer dvcnk_right"},
            }
            answers = {case: await client.request(**_request("notifier", method, path, h)) for case, h in cases.items()}
            in_query = await client.request(**_request("notifier", method, f"{path}?token={OUTBOX_TOKEN}", {}))
            right = await client.request(
                **_request("notifier", method, path, {"Authorization": f"Bearer {OUTBOX_TOKEN}"})
            )

            assert {case: answer.status_code for case, answer in answers.items()} == dict.fromkeys(cases, 401), path
            assert in_query.status_code == 401, "the outbox is not configured to take its token in the query"
            assert right.status_code not in (401, 403, 404), f"{path} refused the provider's token: {right.text}"


async def test_every_console_route_refuses_a_missing_or_unknown_session_when_called(tmp_path: Path) -> None:
    app, _keys = BUILDERS["console"](tmp_path)
    routes = [key for key, scheme in ACCESS["console"].items() if scheme == SESSION]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://matrix") as client:
        for method, path in routes:
            missing = await client.request(**_request("console", method, path, {}))
            unknown = await client.request(**_request("console", method, path, {"Cookie": "dvc_console=guess"}))
            bearer = await client.request(**_request("console", method, path, {"Authorization": "Bearer dvctk_x"}))

            assert [missing.status_code, unknown.status_code, bearer.status_code] == [401, 401, 401], path
            assert missing.headers["content-type"] == "application/problem+json"
    schemes = app.openapi()["components"]["securitySchemes"]
    assert schemes[SESSION] == {"type": "apiKey", "in": "cookie", "name": "dvc_console", "description": ANY}

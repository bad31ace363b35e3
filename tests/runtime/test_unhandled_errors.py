"""Issue 11, item 8: whatever a service does not handle answers problem+json 500 with a correlation id (body and
`X-Correlation-Id`), logged with its stack trace under that id, counted by the HTTP metrics; never text/plain,
never a trace to the client."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

from services.runtime.app import build_service_app
from services.runtime.problems import Problem
from tests.metric_helpers import sample


def _app(registry: CollectorRegistry) -> FastAPI:
    router = APIRouter()

    @router.get("/v1/boom")
    async def boom() -> dict[str, str]:
        raise OverflowError("date value out of range")

    @router.get("/v1/known")
    async def known() -> dict[str, str]:
        raise Problem(404, "no such thing")

    app = build_service_app(
        service="svc", title="t", description="d", broker=None, registry=registry, checks={}, routers=[router]
    )
    return app


async def test_unhandled_exception_answers_problem_json_500_with_a_correlation_id_when_a_route_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = CollectorRegistry()
    app = _app(registry)
    # raise_app_exceptions stays on: the exception must end in the service, not reach the server.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
        with caplog.at_level(logging.ERROR, logger="dvc_pulse.http"):
            response = await client.get("/v1/boom", params={"from": "0001-01-01T00:00:00+14:00"})
        known = await client.get("/v1/known")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    correlation_id = response.headers["x-correlation-id"]
    assert body == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": f"unexpected error; quote correlation id {correlation_id} when reporting it",
        "correlation_id": correlation_id,
    }
    assert "Traceback" not in response.text
    assert "OverflowError" not in response.text
    (record,) = [record for record in caplog.records if correlation_id in record.getMessage()]
    assert record.exc_info is not None
    assert record.exc_info[0] is OverflowError
    assert "GET /v1/boom" in record.getMessage()
    assert (known.status_code, known.headers["content-type"]) == (404, "application/problem+json")
    metrics = generate_latest(registry).decode()
    labels = {"service": "svc", "method": "GET", "route": "/v1/boom"}
    assert sample(metrics, "dvc_http_requests_total", **labels, status="500") == 1.0


class _FailingMiddleware:
    """An outer middleware that fails: Starlette's ServerErrorMiddleware, outside every other, answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/known":
            raise RuntimeError("middleware bug")
        await self.app(scope, receive, send)


async def test_exception_in_an_outer_middleware_answers_problem_json_500_when_the_server_error_handler_answers() -> (
    None
):
    registry = CollectorRegistry()
    app = _app(registry)
    app.add_middleware(_FailingMiddleware)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        response = await client.get("/v1/known")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["correlation_id"] == response.headers["x-correlation-id"]
    assert "middleware bug" not in response.text

"""HTTP request count and latency by route template (bounded labels), as a pure ASGI middleware."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp, registry: CollectorRegistry, service: str) -> None:
        self.app = app
        self.service = service
        self.requests = Counter(
            "dvc_http_requests_total",
            "HTTP requests by route and status",
            ["service", "method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "dvc_http_request_duration_seconds",
            "HTTP request latency by route",
            ["service", "method", "route"],
            registry=registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_template(scope)
            method = scope["method"]
            self.requests.labels(self.service, method, route, str(status["code"])).inc()
            self.latency.labels(self.service, method, route).observe(time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    # The router records the matched route in the scope; FastAPI >= 0.165 includes routers lazily, so the
    # app's top-level routes are router wrappers without a `path`.
    matched = getattr(scope.get("route"), "path", None)
    if isinstance(matched, str):
        return matched
    app: Any = scope.get("app")
    for route in getattr(getattr(app, "router", None), "routes", []):
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", "unmatched"))
    return "unmatched"

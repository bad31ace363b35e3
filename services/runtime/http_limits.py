"""Limits every request meets before its body is read: the route's key guard (401/403), a per-key rate limit on
writes (429 with Retry-After), and a body size cap (413).

The size cap is checked on `Content-Length` first and then on the bytes actually received, so a chunked or lying
client is stopped as soon as it passes the cap; nothing beyond the cap (plus the chunk in hand) is read.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.runtime.guard import ADMITTED, Admitted, KeyGuard
from services.runtime.problems import Problem

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the body passes the cap; an HTTPException so FastAPI's body reading passes it
    on (it turns other errors into 400) and the problem handlers answer 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body exceeds {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class RateLimit:
    """A token bucket per key: `per_second` sustained, `burst` at once."""

    per_second: float
    burst: int


@dataclass
class TokenBuckets:
    limit: RateLimit
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, identity: str) -> float:
        """0 when a request may go now (one token taken), else the seconds until one token is back."""
        now = self.clock()
        tokens, stamp = self._buckets.get(identity, (float(self.limit.burst), now))
        tokens = min(float(self.limit.burst), tokens + (now - stamp) * self.limit.per_second)
        if tokens >= 1.0:
            self._buckets[identity] = (tokens - 1.0, now)
            return 0.0
        self._buckets[identity] = (tokens, now)
        return (1.0 - tokens) / self.limit.per_second


def _guard_of(route: BaseRoute) -> KeyGuard | None:
    if not isinstance(route, APIRoute):
        return None
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if isinstance(dependency.call, KeyGuard):
            return dependency.call
        pending.extend(dependency.dependencies)
    return None


class LimitsMiddleware:
    """`routes` are the service's API routes (with their full paths), matched here to find the route's guard
    and cap; `body_limits` maps a route's path template (`/v1/events`) to its own cap, others get `max_body_bytes`.
    Routes are matched here rather than through the app's router, whose included routers are internal to FastAPI."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Sequence[BaseRoute],
        max_body_bytes: int,
        body_limits: Mapping[str, int] | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.app = app
        self.routes = list(routes)
        self.max_body_bytes = max_body_bytes
        self.body_limits = dict(body_limits or {})
        self.buckets = None if rate_limit is None else TokenBuckets(rate_limit)
        self._guards: dict[int, KeyGuard | None] = {}

    def _route(self, scope: Scope) -> tuple[BaseRoute | None, dict[str, Any]]:
        for route in self.routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return route, child.get("path_params", {})
        return None, {}

    def _guard(self, route: BaseRoute) -> KeyGuard | None:
        if id(route) not in self._guards:
            self._guards[id(route)] = _guard_of(route)
        return self._guards[id(route)]

    def _admit(self, scope: Scope, route: BaseRoute | None, path_params: dict[str, Any]) -> None:
        guard = None if route is None else self._guard(route)
        if guard is None:
            return
        admitted: Admitted = guard.check(Request({**scope, "path_params": path_params}))
        scope[ADMITTED] = admitted
        if self.buckets is not None and scope["method"] in WRITE_METHODS:
            wait = self.buckets.take(admitted.identity)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                raise Problem(
                    429,
                    f"too many requests with this key: retry after {seconds} s",
                    title="Too Many Requests",
                    headers={"Retry-After": str(seconds)},
                    retry_after_seconds=seconds,
                )

    def _cap(self, route: BaseRoute | None) -> int:
        path = getattr(route, "path", None)
        return self.body_limits.get(path, self.max_body_bytes) if isinstance(path, str) else self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route, path_params = self._route(scope)
        limit = self._cap(route)
        try:
            self._admit(scope, route, path_params)
            declared = dict(scope["headers"]).get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise _too_large(limit)
        except Problem as problem:
            await problem.to_response()(scope, receive, send)
            return
        await self._call_counted(scope, receive, send, limit)

    async def _call_counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge as error:
            if started:
                raise
            await _too_large(error.limit).to_response()(scope, receive, send)


def _too_large(limit: int) -> Problem:
    return Problem(413, f"the body exceeds {limit} bytes", code="too_large", max_bytes=limit)


def install_limit_handlers(app: FastAPI) -> None:
    """A body that passed the cap while a handler read it: the same 413 document as at `Content-Length`."""

    async def on_body_too_large(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BodyTooLarge)
        return _too_large(exc.limit).to_response()

    app.add_exception_handler(BodyTooLarge, on_body_too_large)

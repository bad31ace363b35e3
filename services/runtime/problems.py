"""RFC 9457 problem details for every HTTP error, with the field and reason a client needs.

An exception nothing handles becomes a 500 problem with a correlation id (in the body and in the
`X-Correlation-Id` header), logged with its stack trace under that id; the client never sees a trace."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM_JSON = "application/problem+json"
CORRELATION_HEADER = "X-Correlation-Id"
logger = logging.getLogger("dvc_pulse.http")
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Problem(Exception):
    """Raise anywhere in an HTTP handler to answer with problem+json."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        problem_type: str = "about:blank",
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.problem_type = problem_type
        self.headers = dict(headers or {})
        self.extensions = extensions

    def to_response(self) -> Response:
        body = {"type": self.problem_type, "title": self.title, "status": self.status, "detail": self.detail}
        body.update(self.extensions)
        return Response(orjson.dumps(body), status_code=self.status, media_type=PROBLEM_JSON, headers=self.headers)


def field_path(location: Sequence[int | str]) -> str:
    """`data.applicant.phone` or `[3].time`: the path a producer looks for in its JSON."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "(body)"


def describe_validation_errors(errors: Sequence[Mapping[str, Any]], *, skip: int = 0) -> list[dict[str, Any]]:
    """pydantic errors -> [{field, reason}]; `skip` drops leading location parts (e.g. 'body')."""
    return [{"field": field_path(list(error["loc"])[skip:]), "reason": error["msg"]} for error in errors]


def unexpected_error(error: BaseException, method: str, path: str) -> Response:
    """The 500 answer to an unhandled exception; the trace goes to the log under the correlation id."""
    correlation_id = uuid.uuid4().hex
    logger.error(
        "unhandled %s on %s %s (correlation id %s)",
        type(error).__name__,
        method,
        path,
        correlation_id,
        exc_info=(type(error), error, error.__traceback__),
    )
    return Problem(
        500,
        f"unexpected error; quote correlation id {correlation_id} when reporting it",
        headers={CORRELATION_HEADER: correlation_id},
        correlation_id=correlation_id,
    ).to_response()


class UnhandledErrorMiddleware:
    """Turns an exception escaping the routes into `unexpected_error`'s 500. Added innermost (inside
    HttpMetricsMiddleware, which then counts the 500) so the exception ends here instead of reaching Starlette's
    ServerErrorMiddleware, whose answer is text/plain unless the `Exception` handler of
    `install_problem_handlers` (the backstop for errors in outer middleware) answers first."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as error:
            if started:  # the status line is gone: only the server can end the response (it closes it)
                raise
            await unexpected_error(error, scope["method"], scope["path"])(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return exc.to_response()

    async def on_http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        return Problem(exc.status_code, str(exc.detail), headers=headers).to_response()

    async def on_request_validation(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError | ValidationError)
        errors = describe_validation_errors(exc.errors())
        summary = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
        return Problem(422, f"Invalid request: {summary}", errors=errors).to_response()

    async def on_unhandled(request: Request, exc: Exception) -> Response:
        return unexpected_error(exc, request.method, request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(Exception, on_unhandled)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_request_validation)

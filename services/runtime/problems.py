"""RFC 9457 problem details for every HTTP error, with the field and reason a client needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
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

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_request_validation)

"""A refusal as RFC 9457 problem details, the same document over HTTP and over NATS."""

from __future__ import annotations

from typing import Any

from services.ingest.domain.validation import KNOWN_TYPES, Rejected
from services.runtime.problems import Problem


def to_problem(rejection: Rejected) -> Problem:
    headers: dict[str, str] = {}
    if rejection.retry_after_seconds is not None:
        headers["Retry-After"] = str(rejection.retry_after_seconds)
    if rejection.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="dvc-pulse-ingest"'
    extensions: dict[str, Any] = {"code": rejection.reason.value, **rejection.extensions}
    if rejection.errors:
        extensions["errors"] = [error.as_dict() for error in rejection.errors]
        if any(error.reason.startswith("unknown event type") for error in rejection.errors):
            extensions["known_types"] = list(KNOWN_TYPES)
    return Problem(
        rejection.status,
        rejection.detail,
        headers=headers,
        **extensions,
    )


def problem_document(problem: Problem) -> dict[str, Any]:
    """The problem+json body as a mapping (what the NATS ingress replies)."""
    return {
        "type": problem.problem_type,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        **problem.extensions,
    }

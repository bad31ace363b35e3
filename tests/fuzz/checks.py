"""What every answer of the four APIs must be, checked on each fuzzed response: no 5xx (schemathesis'
`not_a_server_error`), and every rejection an RFC 9457 problem document that names the problem (and, for a 422,
the field)."""

from __future__ import annotations

from typing import Any

import orjson
import schemathesis

PROBLEM_JSON = "application/problem+json"


def problem_of(status: int, content_type: str, body: bytes) -> str | None:
    """Why an error answer is not a proper problem document, or None (also for answers below 400)."""
    if status < 400:
        return None
    if content_type.split(";")[0].strip().lower() != PROBLEM_JSON:
        return f"a {status} answered {content_type or 'no content type'}, not {PROBLEM_JSON}"
    try:
        document: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return f"a {status} problem document is not JSON"
    if not isinstance(document, dict):
        return f"a {status} problem document is not an object"
    if document.get("status") != status:
        return f"the problem's status {document.get('status')!r} is not the answer's {status}"
    if not document.get("title") or not document.get("detail"):
        return f"a {status} problem document without title or detail: {document}"
    if status == 422 and not _names_a_field(document):
        return f"a 422 that names no field: {document}"
    return None


def _names_a_field(document: dict[str, Any]) -> bool:
    errors = document.get("errors")
    return isinstance(errors, list) and bool(errors) and all(isinstance(e, dict) and e.get("field") for e in errors)


@schemathesis.check
def rejections_are_problem_documents(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx/5xx is `application/problem+json` with status, title and detail; a 422 lists its fields."""
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    failure = problem_of(response.status_code, content_type, response.content)
    if failure is not None:
        raise AssertionError(failure)
    return None

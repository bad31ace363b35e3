"""`POST /v1/events` (thin: read the request, call the use case, answer)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel

from services.ingest.domain.keys import KeySpec
from services.ingest.domain.validation import (
    BATCH,
    JSON,
    STRUCTURED,
    Reason,
    Rejected,
    ce_attributes,
    check_media_type,
    media_type_of,
)
from services.ingest.service_layer.handlers import Ingest
from services.ingest.service_layer.replies import to_problem
from services.runtime.guard import Admitted, KeyGuard

INGRESS = "http"
EVENTS_PATH = "/v1/events"


class EventResult(BaseModel):
    id: str
    source: str
    status: str
    stream_sequence: int


class IngestAccepted(BaseModel):
    accepted: int
    duplicates: int
    results: list[EventResult]


_DESCRIPTION = """Send one event (`application/cloudevents+json`), a batch (`application/cloudevents-batch+json`,
a JSON array), binary mode (`ce-*` headers, the body is `data` as `application/json`) or plain `application/json`
(one event or an array). Authenticate with `Authorization: Bearer <key>`. A batch is validated whole: one invalid
event rejects the request (422, every error with its index and field). 202 comes only after JetStream acknowledged
every event; resending the same events is safe (deduplicated by `source` and `id`). See docs/events.md."""

_PROBLEM = {"application/problem+json": {"schema": {"type": "object"}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not valid JSON (line and column given)", "content": _PROBLEM},
    401: {"description": "No key, or an unknown, revoked or expired key", "content": _PROBLEM},
    403: {"description": "The key may not send events from this source", "content": _PROBLEM},
    413: {
        "description": "Body over the size limit, more events than a batch may hold, or an event larger than the "
        "NATS server's max_payload allows (`event_too_large`)",
        "content": _PROBLEM,
    },
    415: {"description": "Unsupported content type", "content": _PROBLEM},
    429: {"description": "Too many requests with this key; retry after `Retry-After` seconds", "content": _PROBLEM},
    422: {
        "description": "Invalid events (contract, time rules, control characters in source or id): `errors` lists "
        "every one with index and field",
        "content": _PROBLEM,
    },
    503: {"description": "The event log is unavailable; retry after `Retry-After` seconds", "content": _PROBLEM},
}
_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            STRUCTURED: {"schema": {"type": "object", "description": "one CloudEvent"}},
            BATCH: {"schema": {"type": "array", "items": {"type": "object"}, "maxItems": 1000}},
            JSON: {"schema": {"description": "one event, an array of events, or `data` in binary mode"}},
        },
    }
}


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed `limit` (Content-Length, then counted)."""
    declared = request.headers.get("content-length")
    too_large = Rejected(413, Reason.TOO_LARGE, f"the body exceeds {limit} bytes", extensions={"max_bytes": limit})
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def producer_guard(ingest: Ingest) -> KeyGuard:
    """A producer key, checked before the body is read (its sources are checked once the events are known)."""

    def check(request: Request) -> Admitted:
        try:
            key = ingest.authenticate(request.headers.get("authorization"), INGRESS)
        except Rejected as rejection:
            raise to_problem(rejection) from None
        return Admitted(f"ingest:{key.name}", key)

    return KeyGuard(
        check,
        scheme_name="producerKey",
        description="A producer key from `dvc-pulse ingest keys add`, as `Authorization: Bearer <key>`",
    )


def ingest_router(ingest: Ingest, max_body_bytes: int) -> APIRouter:
    router = APIRouter(tags=["events"])
    producer = Depends(producer_guard(ingest))

    @router.post(
        EVENTS_PATH,
        status_code=202,
        summary="Send CloudEvents (one, a batch, or binary mode)",
        description=_DESCRIPTION,
        response_model=IngestAccepted,
        responses=_RESPONSES,
        openapi_extra=_REQUEST_BODY,
    )
    async def post_events(request: Request, key: KeySpec = producer) -> Response:
        try:
            try:
                attributes = ce_attributes(request.headers, percent_encoded=True)
                content_type = request.headers.get("content-type")
                if content_type is None:
                    raise Rejected(415, Reason.UNSUPPORTED_MEDIA_TYPE, "a Content-Type header is required")
                media_type = media_type_of(content_type)
                check_media_type(media_type, binary=bool(attributes))
                body = await read_body(request, max_body_bytes)
            except Rejected as rejection:
                raise ingest.rejected_early(rejection, INGRESS) from None
            document = await ingest.accept(key, media_type, attributes, body, INGRESS)
        except Rejected as rejection:
            raise to_problem(rejection) from None
        return Response(orjson.dumps(document), status_code=202, media_type="application/json")

    return router

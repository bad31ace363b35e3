"""The NATS request-reply ingress on `dvc.ingest`: same rules and answers as `POST /v1/events`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from faststream.message import StreamMessage
from faststream.nats import NatsBroker, NatsMessage, NatsResponse

from services.ingest.domain.validation import Reason, Rejected, ce_attributes, check_media_type, media_type_of
from services.ingest.service_layer.handlers import Ingest
from services.ingest.service_layer.replies import problem_document, to_problem

INGRESS = "nats"


async def answer(ingest: Ingest, headers: Mapping[str, str], body: bytes, max_body_bytes: int) -> dict[str, Any]:
    """The reply document: `{status: 202, accepted, duplicates, results}` or a problem with its `status`."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        key = ingest.authenticate(lowered.get("authorization"), INGRESS)
        attributes = ce_attributes(lowered, percent_encoded=False)
        try:
            media_type = media_type_of(lowered.get("content-type"))
            check_media_type(media_type, binary=bool(attributes))
            if len(body) > max_body_bytes:
                detail = f"the body exceeds {max_body_bytes} bytes"
                raise Rejected(413, Reason.TOO_LARGE, detail, extensions={"max_bytes": max_body_bytes})
        except Rejected as rejection:
            raise ingest.rejected_early(rejection, INGRESS) from None
        document = await ingest.accept(key, media_type, attributes, body, INGRESS)
    except Rejected as rejection:
        return problem_document(to_problem(rejection))
    return {"status": 202, **document}


async def _raw_body(message: StreamMessage[Any]) -> bytes:
    return message.body


def register_ingress(broker: NatsBroker, ingest: Ingest, subject: str, queue: str, max_body_bytes: int) -> None:
    @broker.subscriber(
        subject,
        queue=queue,
        decoder=_raw_body,
        title="ingest-request",
        description=(
            "Request-reply ingress: the body is one CloudEvent or a JSON array of them (or `data` with ce-* "
            "headers), with an `Authorization: Bearer <key>` header. The reply is the HTTP answer as JSON, "
            "its `status` included."
        ),
    )
    async def on_request(body: bytes, message: NatsMessage) -> NatsResponse:
        headers = message.raw_message.headers or {}
        document = await answer(ingest, headers, body, max_body_bytes)
        content_type = "application/json" if document["status"] == 202 else "application/problem+json"
        return NatsResponse(orjson.dumps(document), headers={"content-type": content_type})

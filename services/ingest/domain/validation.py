"""Turn a request body into validated CloudEvents, or reject it whole with every error located.

Modes (design §3): structured (one event), batch (a JSON array) and binary (attributes beside the body,
the body being `data`). A batch is validated whole first: one invalid event rejects the request and every
error is reported with its index and field path (`[3].data.applicant.phone`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import unquote

import orjson
from pydantic import Field, TypeAdapter, ValidationError

from services.contracts.events import EVENT_ADAPTER, EVENT_TYPE_PREFIX, AnyEvent, CloudEvent, EventType
from services.ingest.domain.time_rules import TimeWindow, time_errors

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
JSON = "application/json"

KNOWN_TYPES: tuple[str, ...] = tuple(sorted(event_type.value for event_type in EventType))
_TYPE_TAGS = frozenset(KNOWN_TYPES)
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_REASON = "control characters (U+0000-U+001F, U+007F: line breaks, tabs, ...) are not allowed in an identity"
_JSON_POSITION = re.compile(r"line (\d+) column (\d+)")
_ARRAY_START = re.compile(rb"[ \t\r\n]*\[")


class Mode(StrEnum):
    STRUCTURED = "structured"
    BATCH = "batch"
    BINARY = "binary"


class Reason(StrEnum):
    """Why a request was rejected: a bounded metric label and the problem document's `code`."""

    BROKEN_JSON = "broken_json"
    INVALID = "invalid"
    TOO_LARGE = "too_large"
    EVENT_TOO_LARGE = "event_too_large"
    TOO_MANY_EVENTS = "too_many_events"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN_SOURCE = "forbidden_source"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class FieldError:
    index: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "reason": self.reason}


@dataclass
class Rejected(Exception):
    """The whole request is refused; `status` is the HTTP status the same refusal has over HTTP."""

    status: int
    reason: Reason
    detail: str
    errors: Sequence[FieldError] = ()
    extensions: dict[str, Any] = field(default_factory=dict)
    retry_after_seconds: int | None = None

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True)
class Decoded:
    events: list[CloudEvent]
    mode: Mode


@lru_cache(maxsize=8)
def _batch_adapter(max_events: int) -> TypeAdapter[list[CloudEvent]]:
    return TypeAdapter(Annotated[list[AnyEvent], Field(max_length=max_events)])  # type: ignore[valid-type,arg-type]


def media_type_of(content_type: str | None) -> str | None:
    """`application/json` from `application/json; charset=utf-8`; refuses a charset other than UTF-8."""
    if content_type is None:
        return None
    media_type, _, parameters = content_type.partition(";")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise Rejected(415, Reason.UNSUPPORTED_MEDIA_TYPE, f"only UTF-8 is accepted, not charset={value.strip()}")
    return media_type.strip().lower()


def ce_attributes(headers: Mapping[str, str], *, percent_encoded: bool) -> dict[str, str]:
    """Binary-mode attributes from `ce-*` headers (names lowercase), or {} without `ce-specversion`:
    other `ce-*` headers alone do not switch a request to binary mode."""
    attributes = {name[3:]: value for name, value in headers.items() if name.startswith("ce-") and name[3:]}
    if "specversion" not in attributes:
        return {}
    return {name: unquote(value) for name, value in attributes.items()} if percent_encoded else attributes


def check_media_type(media_type: str | None, *, binary: bool) -> None:
    """Refuse an unsupported content type before reading the body (415)."""
    if binary and media_type not in (None, JSON):
        raise Rejected(
            415, Reason.UNSUPPORTED_MEDIA_TYPE, f"binary mode carries `data` as application/json, not {media_type}"
        )
    if media_type not in (None, JSON, STRUCTURED, BATCH):
        raise Rejected(
            415,
            Reason.UNSUPPORTED_MEDIA_TYPE,
            f"unsupported content type {media_type!r}: use {STRUCTURED} (one event), {BATCH} (an array of "
            f"events) or {JSON} (one event, an array, or binary mode with ce-* headers)",
        )


def decode_body(media_type: str | None, body: bytes, attributes: Mapping[str, str], *, max_events: int) -> Decoded:
    """`media_type` without parameters (None: sniff JSON); `attributes` are binary-mode `ce-*` values by name."""
    check_media_type(media_type, binary=bool(attributes))
    if attributes:
        return Decoded([binary_event(attributes, body)], Mode.BINARY)
    if media_type == STRUCTURED:
        return Decoded([structured_event(body)], Mode.STRUCTURED)
    if media_type == BATCH or _ARRAY_START.match(body):
        return Decoded(batch_events(body, max_events), Mode.BATCH)
    return Decoded([structured_event(body)], Mode.STRUCTURED)


def structured_event(body: bytes | str) -> CloudEvent:
    try:
        event = EVENT_ADAPTER.validate_json(body)
    except ValidationError as error:
        raise _rejection(error, batch=False, binary=False) from None
    _check_attributes([event], batch=False)
    return event


def batch_events(body: bytes | str, max_events: int) -> list[CloudEvent]:
    try:
        events = _batch_adapter(max_events).validate_json(body)
    except ValidationError as error:
        raise _rejection(error, batch=True, binary=False) from None
    _check_attributes(events, batch=True)
    return events


def mapping_event(raw: Mapping[str, Any]) -> CloudEvent:
    """One event from an already-decoded mapping (CSV rows): same rules and error paths as structured mode."""
    try:
        event = EVENT_ADAPTER.validate_python(raw)
    except ValidationError as error:
        raise _rejection(error, batch=False, binary=False) from None
    _check_attributes([event], batch=False)
    return event


def binary_event(attributes: Mapping[str, str], body: bytes) -> CloudEvent:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise Rejected(
            400,
            Reason.BROKEN_JSON,
            f"the body (the event's data) is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
            extensions={"line": error.lineno, "column": error.colno},
        ) from None
    raw: dict[str, Any] = {"datacontenttype": JSON, **attributes, "data": data}
    try:
        event = EVENT_ADAPTER.validate_python(raw)
    except ValidationError as error:
        raise _rejection(error, batch=False, binary=True) from None
    _check_attributes([event], batch=False, binary=True)
    return event


def describe_errors(errors: Sequence[Mapping[str, Any]], *, batch: bool, binary: bool = False) -> list[FieldError]:
    """pydantic errors -> located errors, without pydantic's union tag in the path."""
    described = []
    for error in errors:
        location = list(error["loc"])
        index = location.pop(0) if batch and location and isinstance(location[0], int) else 0
        if location and location[0] in _TYPE_TAGS:
            location.pop(0)
        reason = str(error["msg"])
        if error["type"] == "union_tag_invalid":
            location = ["type"]
            known = ", ".join(name.removeprefix(EVENT_TYPE_PREFIX) for name in KNOWN_TYPES)
            reason = f"unknown event type {error['ctx']['tag']!r}; known types ({EVENT_TYPE_PREFIX}*): {known}"
        elif error["type"] == "union_tag_not_found":
            location = ["type"]
            reason = "Field required: every event names its `type`, which decides the schema of `data`"
        described.append(FieldError(index, _path(index if batch else None, location, binary), reason))
    return described


def _path(index: int | None, location: Sequence[int | str], binary: bool) -> str:
    if binary and location and location[0] != "data":
        return f"ce-{location[0]} (header)"
    path = f"[{index}]" if index is not None else ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(body)"


def _rejection(error: ValidationError, *, batch: bool, binary: bool) -> Rejected:
    errors = error.errors(include_url=False, include_input=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        message = str(first["msg"]).removeprefix("Invalid JSON: ")
        position = _JSON_POSITION.search(message)
        extensions = {"line": int(position[1]), "column": int(position[2])} if position else {}
        return Rejected(400, Reason.BROKEN_JSON, f"the body is not valid JSON: {message}", extensions=extensions)
    if first["type"] == "too_long" and not first["loc"]:
        actual, limit = first["ctx"]["actual_length"], first["ctx"]["max_length"]
        detail = f"the batch holds {actual} events; at most {limit} per request"
        return Rejected(413, Reason.TOO_MANY_EVENTS, detail, extensions={"max_events": limit})
    if first["type"] == "list_type" and not first["loc"]:
        return Rejected(
            422, Reason.INVALID, "a batch is a JSON array of events", [FieldError(0, "(body)", "not an array")]
        )
    described = describe_errors(errors, batch=batch, binary=binary)
    return _invalid(described, batch=batch)


def _invalid(errors: Sequence[FieldError], *, batch: bool) -> Rejected:
    summary = "; ".join(f"{e.field}: {e.reason}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    scope = f"{len({e.index for e in errors})} invalid event(s); nothing was accepted" if batch else "invalid event"
    return Rejected(422, Reason.INVALID, f"{scope}: {summary}{more}", errors)


def check_times(events: Sequence[CloudEvent], window: TimeWindow, mode: Mode) -> None:
    """Refuse the request (422, every error located as for the contract) if a date is implausible."""
    errors = [
        FieldError(index, _path(index if mode is Mode.BATCH else None, location, mode is Mode.BINARY), reason)
        for index, event in enumerate(events)
        for location, reason in time_errors(event, window)
    ]
    if errors:
        raise _invalid(errors, batch=mode is Mode.BATCH)


def event_too_large(sizes: Mapping[int, int], limit: int, max_payload: int, *, batch: bool) -> Rejected:
    """413 naming each event over `limit` bytes (its stored JSON) and its size."""
    errors = [
        FieldError(index, f"[{index}]" if batch else "(event)", f"{size} bytes as stored; at most {limit}")
        for index, size in sorted(sizes.items())
    ]
    names = [f"event {error.field}" if batch else "the event" for error in errors[:3]]
    listing = "; ".join(f"{name} is {sizes[error.index]} bytes" for name, error in zip(names, errors, strict=False))
    detail = (
        f"{listing} as stored: an event may be at most {limit} bytes (the NATS server's "
        f"max_payload of {max_payload} bytes, less room for headers); nothing was accepted"
    )
    extensions = {"max_event_bytes": limit, "max_payload": max_payload}
    return Rejected(413, Reason.EVENT_TOO_LARGE, detail, errors, extensions=extensions)


def _check_attributes(events: Sequence[CloudEvent], *, batch: bool, binary: bool = False) -> None:
    """No control characters in `source` and `id`; CloudEvents extension attributes: lowercase letters and
    digits (max 20), primitive values."""
    errors = []
    for index, event in enumerate(events):
        for name in ("source", "id"):
            if _CONTROL_CHARACTER.search(getattr(event, name)):
                errors.append(FieldError(index, _path(index if batch else None, [name], binary), _CONTROL_REASON))
        extra = event.__pydantic_extra__
        if not extra:
            continue
        for name, value in extra.items():
            if not _EXTENSION_NAME.match(name):
                reason = "unknown attribute: extension names are 1-20 lowercase letters or digits"
            elif not isinstance(value, str | int | bool):
                reason = "an extension attribute's value is a string, an integer or a boolean"
            else:
                continue
            errors.append(FieldError(index, _path(index if batch else None, [name], binary), reason))
    if errors:
        raise _invalid(errors, batch=batch)

"""JSON Schema documents generated from the contract models (docs/schemas/, `dvc-pulse ingest export-schemas`)."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel

from services.contracts import alerts
from services.contracts.events import EVENT_ADAPTER, EVENT_MODELS

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_FILE = "cloudevent.schema.json"
BATCH_FILE = "batch.schema.json"
DEFAULT_MAX_BATCH_EVENTS = 1000
MESSAGE_MODELS: tuple[type[BaseModel], ...] = (
    alerts.DossierAlertRaised,
    alerts.TaskAlertRaised,
    alerts.IndicatorSnapshotTaken,
    alerts.NotificationStatusChanged,
)


def _document(file_name: str, title: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    head = {"$schema": DIALECT, "$id": file_name, "title": title, "description": description}
    return {**head, **{key: value for key, value in schema.items() if key not in ("title", "description")}}


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def schema_documents() -> dict[str, dict[str, Any]]:
    """Relative file name -> JSON Schema: the envelope union, a batch, each event type, each service message."""
    documents = {
        ENVELOPE_FILE: _document(
            ENVELOPE_FILE,
            "DVC Pulse CloudEvent",
            "Any event DVC Pulse accepts: a CloudEvents 1.0 envelope whose `type` selects the schema of `data`.",
            EVENT_ADAPTER.json_schema(),
        ),
        BATCH_FILE: _document(
            BATCH_FILE,
            "DVC Pulse event batch",
            "Body of application/cloudevents-batch+json: a JSON array of events (at most 1,000 by default).",
            {"type": "array", "maxItems": DEFAULT_MAX_BATCH_EVENTS, "items": {"$ref": ENVELOPE_FILE}},
        ),
    }
    for event_type, model in EVENT_MODELS.items():
        name = f"events/{event_type.value}.schema.json"
        description = f"A `{event_type.value}` CloudEvent (envelope and `data`)."
        documents[name] = _document(name, event_type.value, description, model.model_json_schema())
    for message in MESSAGE_MODELS:
        name = f"messages/{_kebab(message.__name__)}.schema.json"
        description = (message.__doc__ or message.__name__).strip().splitlines()[0]
        documents[name] = _document(
            name, message.__name__, description, message.model_json_schema(mode="serialization")
        )
    return documents


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

"""Turn a validated CloudEvent into what the projections fold, dropping personal data on the way."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

from services.contracts.catalog import DocumentCompleted, FeedbackSubmitted, ProcedurePublished
from services.contracts.events import CloudEvent, EventType
from services.indicators.domain.catalog import DocumentState, FeedbackState, ProcedureState
from services.indicators.domain.dossier import DossierEvent, event_sort_key, key_text

ProjectedEvent = DossierEvent | ProcedureState | DocumentState | FeedbackState


def to_projected(event: CloudEvent) -> ProjectedEvent:
    """The domain view of one event. The applicant's name and phone never leave this function."""
    event_type = EventType(event.type)
    short = event_type.short_name

    def key() -> str:
        return key_text(event_sort_key(event.time, short, event.source, event.id))

    data = event.data
    if isinstance(data, ProcedurePublished):
        return ProcedureState(
            procedure_code=data.procedure_code,
            name=data.name,
            field=data.field,
            level=data.level.value,
            eligible_full_online=data.eligible_full_online,
            boundary_free=data.boundary_free,
            business_related=data.business_related,
            has_fee=data.has_fee,
            time_limit_value=data.time_limit.value,
            time_limit_unit=data.time_limit.unit.value,
            published_at=event.time,
            last_event_key=key(),
        )
    if isinstance(data, DocumentCompleted):
        return DocumentState(data.document_id, data.agency, data.fully_electronic, event.time, key())
    if isinstance(data, FeedbackSubmitted):
        return FeedbackState(data.dossier_code, data.satisfied, event.time, key())
    payload: dict[str, Any] = {}
    for name, value in data.__dict__.items():  # validated values; cheaper than model_dump
        if name == "applicant":
            payload["applicant_kind"] = value.kind.value
        elif isinstance(value, Enum):
            payload[name] = value.value
        elif isinstance(value, datetime):
            payload[name] = value.astimezone(UTC)
        else:
            payload[name] = value
    # Times in UTC from here on: comparing, hashing and storing them is several times cheaper than with the
    # parsed offset's tzinfo, and the instant is the same.
    time = event.time.astimezone(UTC)
    return DossierEvent(event.source, event.id, short, time, payload["dossier_code"], payload)

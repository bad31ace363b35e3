"""Turn a validated CloudEvent into what the projections fold, dropping personal data on the way."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from operator import attrgetter, itemgetter
from typing import Any

from pydantic import AwareDatetime, BaseModel

from services.contracts.catalog import DocumentCompleted, FeedbackSubmitted, ProcedurePublished
from services.contracts.events import CloudEvent, EventType
from services.indicators.domain.catalog import DocumentState, FeedbackState, ProcedureState
from services.indicators.domain.dossier_model import DossierEvent, utc_key_text

ProjectedEvent = DossierEvent | ProcedureState | DocumentState | FeedbackState
Converter = Callable[[Any], Any]
# Of a data model: its fields as the payload names them when one is renamed (else None: a copy of the model's
# values keeps the names), how to read the values in that order, and the payload entries to convert.
Plan = tuple[tuple[str, ...] | None, Callable[[Any], Any], tuple[tuple[str, Converter], ...]]

_SHORT_NAMES = {event_type.value: event_type.short_name for event_type in EventType}
_PLAIN_TYPES = (str, int, float, bool)  # validated values of these annotations are copied as they are
_PLANS: dict[type[BaseModel], Plan] = {}
_CATALOG_MODELS = frozenset({ProcedurePublished, DocumentCompleted, FeedbackSubmitted})


def to_projected(event: CloudEvent) -> ProjectedEvent:
    """The domain view of one event. The applicant's name and phone never leave this function."""
    short = _SHORT_NAMES[event.type]  # the typed event models hold `type` as a plain string
    data = event.data
    model = type(data)
    if model in _CATALOG_MODELS:  # not isinstance: pydantic's metaclass makes that several times slower
        return _catalog_state(event, data, short)
    renamed, values_of, converted = _PLANS.get(model) or _plan(model)
    if renamed is None:
        payload: dict[str, Any] = dict(data.__dict__)
    else:
        payload = dict(zip(renamed, values_of(data.__dict__), strict=True))
    for name, convert in converted:
        payload[name] = convert(payload[name])
    # Times in UTC from here on: comparing, hashing and storing them is several times cheaper than with the
    # parsed offset's tzinfo, and the instant is the same.
    time = event.time.astimezone(UTC)
    key = utc_key_text(time, short, event.source, event.id)
    return DossierEvent(event.source, event.id, short, time, payload["dossier_code"], payload, key)


def _catalog_state(event: CloudEvent, data: Any, short: str) -> ProjectedEvent:
    key = utc_key_text(event.time.astimezone(UTC), short, event.source, event.id)
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
            last_event_key=key,
        )
    if isinstance(data, DocumentCompleted):
        return DocumentState(data.document_id, data.agency, data.fully_electronic, event.time, key)
    return FeedbackState(data.dossier_code, data.satisfied, event.time, key)


def _plan(model: type[BaseModel]) -> Plan:
    """Worked out once per data model from its annotations, so most fields are copied without type checks."""
    names = tuple(model.model_fields)
    converted: list[tuple[str, Converter]] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if name == "applicant":
            converted.append(("applicant_kind", attrgetter("kind.value")))
        elif isinstance(annotation, type) and issubclass(annotation, Enum):
            converted.append((name, attrgetter("value")))
        elif annotation is AwareDatetime or annotation is datetime:
            converted.append((name, _to_utc))
        elif annotation not in _PLAIN_TYPES:
            converted.append((name, _json_value))
    getter = itemgetter(*names)
    values_of: Callable[[Any], Any] = getter if len(names) > 1 else lambda values: (getter(values),)
    renamed = tuple("applicant_kind" if name == "applicant" else name for name in names)
    plan = (renamed if renamed != names else None, values_of, tuple(converted))
    _PLANS[model] = plan
    return plan


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _json_value(value: Any) -> Any:
    """Any other annotation (an optional enum, say): decide by the value, as for a field of unknown type."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value

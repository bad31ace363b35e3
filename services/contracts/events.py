"""The CloudEvents 1.0 envelope and the catalogue of event types (design §3)."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Annotated, Any, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, create_model

from services.contracts import catalog, dossier
from services.contracts._base import ContractModel
from services.contracts.timebounds import FIRST_YEAR

EVENT_TYPE_PREFIX = "vn.gov.dvc."
# No control characters (C0 and DEL) in an identity: the ingest refuses them. Documented in the schema only, so
# events stored before the rule still validate when a consumer reads them.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"
_IDENTITY_PATTERN = {"pattern": NO_CONTROL_CHARACTERS}


class EventType(StrEnum):
    DOSSIER_SUBMITTED = "vn.gov.dvc.dossier.submitted"
    DOSSIER_ACCEPTED = "vn.gov.dvc.dossier.accepted"
    DOSSIER_REJECTED = "vn.gov.dvc.dossier.rejected"
    DOSSIER_TRANSFERRED = "vn.gov.dvc.dossier.transferred"
    DOSSIER_SUPPLEMENT_REQUESTED = "vn.gov.dvc.dossier.supplement_requested"
    DOSSIER_SUPPLEMENT_RECEIVED = "vn.gov.dvc.dossier.supplement_received"
    DOSSIER_PAYMENT_REQUESTED = "vn.gov.dvc.dossier.payment_requested"
    DOSSIER_PAID = "vn.gov.dvc.dossier.paid"
    DOSSIER_RESCHEDULED = "vn.gov.dvc.dossier.rescheduled"
    DOSSIER_PROCESSED = "vn.gov.dvc.dossier.processed"
    DOSSIER_RETURNED = "vn.gov.dvc.dossier.returned"
    DOSSIER_WITHDRAWN = "vn.gov.dvc.dossier.withdrawn"
    DOSSIER_STOPPED = "vn.gov.dvc.dossier.stopped"
    PROCEDURE_PUBLISHED = "vn.gov.dvc.procedure.published"
    DOCUMENT_COMPLETED = "vn.gov.dvc.document.completed"
    FEEDBACK_SUBMITTED = "vn.gov.dvc.feedback.submitted"

    @property
    def short_name(self) -> str:
        """`dossier.accepted` for `vn.gov.dvc.dossier.accepted`: the subject suffix and metric label."""
        return self.value.removeprefix(EVENT_TYPE_PREFIX)


DATA_MODELS: dict[EventType, type[ContractModel]] = {
    EventType.DOSSIER_SUBMITTED: dossier.DossierSubmitted,
    EventType.DOSSIER_ACCEPTED: dossier.DossierAccepted,
    EventType.DOSSIER_REJECTED: dossier.DossierRejected,
    EventType.DOSSIER_TRANSFERRED: dossier.DossierTransferred,
    EventType.DOSSIER_SUPPLEMENT_REQUESTED: dossier.DossierSupplementRequested,
    EventType.DOSSIER_SUPPLEMENT_RECEIVED: dossier.DossierSupplementReceived,
    EventType.DOSSIER_PAYMENT_REQUESTED: dossier.DossierPaymentRequested,
    EventType.DOSSIER_PAID: dossier.DossierPaid,
    EventType.DOSSIER_RESCHEDULED: dossier.DossierRescheduled,
    EventType.DOSSIER_PROCESSED: dossier.DossierProcessed,
    EventType.DOSSIER_RETURNED: dossier.DossierReturned,
    EventType.DOSSIER_WITHDRAWN: dossier.DossierWithdrawn,
    EventType.DOSSIER_STOPPED: dossier.DossierStopped,
    EventType.PROCEDURE_PUBLISHED: catalog.ProcedurePublished,
    EventType.DOCUMENT_COMPLETED: catalog.DocumentCompleted,
    EventType.FEEDBACK_SUBMITTED: catalog.FeedbackSubmitted,
}


class CloudEvent(BaseModel):
    """CloudEvents 1.0 envelope; `(source, id)` is the event's identity everywhere.

    Extension attributes (lowercase names) are kept as they came.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"]
    id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=256,
            description="Unique within `source`; no control characters",
            json_schema_extra=_IDENTITY_PATTERN,
        ),
    ]
    source: Annotated[
        str,
        Field(
            min_length=1,
            max_length=512,
            description="The sending system; no control characters",
            json_schema_extra=_IDENTITY_PATTERN,
        ),
    ]
    type: EventType
    time: Annotated[
        AwareDatetime,
        Field(
            description=f"When it happened, RFC 3339 with offset: not before {FIRST_YEAR}-01-01, not after the "
            "ingest's clock + 5 minutes (the defaults)"
        ),
    ]
    subject: Annotated[str | None, Field(max_length=256)] = None
    datacontenttype: Literal["application/json"] | None = "application/json"
    dataschema: Annotated[str | None, Field(max_length=512)] = None
    data: ContractModel

    @property
    def message_id(self) -> str:
        """The `Nats-Msg-Id` of this event (JetStream's deduplication key), see `message_id`."""
        return message_id(self.source, self.id)


def message_id(source: str, event_id: str) -> str:
    """`Nats-Msg-Id` of the event (`source`, `event_id`): SHA-256 (hex) of the length-prefixed pair.

    The lengths make it unambiguous (`source:id` made `urn:a:b` + `1` and `urn:a` + `b:1` the same message), and
    the hex digest carries no character a NATS header could alter.
    """
    source_bytes, id_bytes = source.encode(), event_id.encode()
    pair = b"%d:%b%d:%b" % (len(source_bytes), source_bytes, len(id_bytes), id_bytes)
    return hashlib.sha256(pair).hexdigest()


def _typed_event_model(event_type: EventType, data_model: type[ContractModel]) -> type[CloudEvent]:
    class_name = "".join(part.title() for part in event_type.short_name.replace("_", ".").split(".")) + "Event"
    return create_model(
        class_name,
        __base__=CloudEvent,
        type=(Literal[event_type.value], ...),  # type: ignore[arg-type]
        data=(data_model, ...),
    )


EVENT_MODELS: dict[EventType, type[CloudEvent]] = {
    event_type: _typed_event_model(event_type, data_model) for event_type, data_model in DATA_MODELS.items()
}

AnyEvent = Annotated[Union[tuple(EVENT_MODELS.values())], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007

EVENT_ADAPTER: TypeAdapter[CloudEvent] = TypeAdapter(AnyEvent)  # type: ignore[arg-type]
EVENT_LIST_ADAPTER: TypeAdapter[list[CloudEvent]] = TypeAdapter(list[AnyEvent])  # type: ignore[valid-type]


def parse_event(raw: bytes | str | dict[str, Any]) -> CloudEvent:
    """Validate one event (JSON bytes/str or a decoded mapping); raises pydantic.ValidationError."""
    if isinstance(raw, dict):
        return EVENT_ADAPTER.validate_python(raw)
    return EVENT_ADAPTER.validate_json(raw)


def serialize_event(event: CloudEvent) -> bytes:
    """Canonical JSON (UTF-8, no ASCII escaping) of a validated event, as stored in DVC_EVENTS."""
    return event.__pydantic_serializer__.to_json(event, exclude_none=True)

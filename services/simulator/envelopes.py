"""CloudEvents envelopes as plain JSON-ready dicts (validated against services.contracts in the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.contracts.events import EventType

# Lifecycle rank of a type: equal times sort as the lifecycle goes (design §4 convergence).
TYPE_RANK: dict[str, int] = {
    event_type.value: rank
    for rank, event_type in enumerate(
        (
            EventType.PROCEDURE_PUBLISHED,
            EventType.DOSSIER_SUBMITTED,
            EventType.DOSSIER_ACCEPTED,
            EventType.DOSSIER_TRANSFERRED,
            EventType.DOSSIER_SUPPLEMENT_REQUESTED,
            EventType.DOSSIER_SUPPLEMENT_RECEIVED,
            EventType.DOSSIER_PAYMENT_REQUESTED,
            EventType.DOSSIER_PAID,
            EventType.DOSSIER_RESCHEDULED,
            EventType.DOSSIER_PROCESSED,
            EventType.DOSSIER_RETURNED,
            EventType.DOSSIER_REJECTED,
            EventType.DOSSIER_WITHDRAWN,
            EventType.DOSSIER_STOPPED,
            EventType.FEEDBACK_SUBMITTED,
            EventType.DOCUMENT_COMPLETED,
        )
    )
}


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One event: its instant (for ordering and scheduling) and its CloudEvents JSON document."""

    time: datetime
    document: dict[str, Any]

    @property
    def sort_key(self) -> tuple[datetime, int, str, str]:
        doc = self.document
        return (self.time.astimezone(UTC), TYPE_RANK[doc["type"]], doc["source"], doc["id"])

    @property
    def identity(self) -> tuple[str, str]:
        return self.document["source"], self.document["id"]


def make_event(
    event_type: EventType, *, source: str, event_id: str, time: datetime, subject: str, data: dict[str, Any]
) -> SimEvent:
    document = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": event_type.value,
        "time": time.isoformat(),
        "subject": subject,
        "datacontenttype": "application/json",
        "data": data,
    }
    return SimEvent(time, document)

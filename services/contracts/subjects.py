"""NATS subject names (design §3)."""

from __future__ import annotations

from services.contracts.events import EventType

EVENTS_PREFIX = "dvc.events"
ALERTS_PREFIX = "dvc.alerts"
NOTIFY_PREFIX = "dvc.notify"
DLQ_PREFIX = "dvc.dlq"

INGEST_REQUEST = "dvc.ingest"
INDICATORS_SNAPSHOT = "dvc.indicators.snapshot"

ALERT_DOSSIER_AT_RISK = "dvc.alerts.dossier.at_risk"
ALERT_DOSSIER_OVERDUE = "dvc.alerts.dossier.overdue"
ALERT_TASK_OVERDUE = "dvc.alerts.task.overdue"
ALERT_TASK_DUE_SOON = "dvc.alerts.task.due_soon"

NOTIFICATION_STATUS = "dvc.notify.status"


def event_subject(event_type: EventType) -> str:
    """`dvc.events.dossier.accepted` for `vn.gov.dvc.dossier.accepted`."""
    return f"{EVENTS_PREFIX}.{event_type.short_name}"


def dlq_subject(service: str) -> str:
    """Dead letters are grouped by the consumer that gave up on them."""
    return f"{DLQ_PREFIX}.{service}"

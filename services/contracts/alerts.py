"""Messages services publish to each other on DVC_ALERTS and DVC_NOTIFY (design §1, §3).

Each carries its own stable identity (`alert_id`, `snapshot_id`, ...), published as `Nats-Msg-Id`.
No personal data: dossier codes and pseudonymous officer codes only.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from services.contracts._base import ContractModel

Ratio = Annotated[float, Field(ge=0.0, le=1.0)]


class DossierAlertKind(StrEnum):
    AT_RISK = "at_risk"
    OVERDUE = "overdue"


class DossierAlertRaised(ContractModel):
    """Published on `dvc.alerts.dossier.at_risk` / `dvc.alerts.dossier.overdue`, once per dossier and kind."""

    alert_id: str
    kind: DossierAlertKind
    dossier_code: str
    procedure_code: str
    agency: str
    officer: str | None = None
    due_at: AwareDatetime
    risk: Ratio | None = None
    raised_at: AwareDatetime


class TaskAlertKind(StrEnum):
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


class TaskAlertRaised(ContractModel):
    """Published on `dvc.alerts.task.due_soon` / `dvc.alerts.task.overdue`, once per task and deadline."""

    alert_id: str
    kind: TaskAlertKind
    task_id: str
    title: str
    owner_unit: str
    deadline: date
    progress_percent: Annotated[int, Field(ge=0, le=100)] = 0
    raised_at: AwareDatetime


class IndicatorValue(ContractModel):
    code: str
    numerator: int
    denominator: int
    value: Ratio | None
    target: Ratio | None = None
    comparator: Literal[">=", "=", "<="] = ">="


class IndicatorSnapshotTaken(ContractModel):
    """Published on `dvc.indicators.snapshot`: every live indicator for one period."""

    snapshot_id: str
    period_from: AwareDatetime
    period_to: AwareDatetime
    taken_at: AwareDatetime
    indicators: list[IndicatorValue]


class NotificationStatus(StrEnum):
    CREATED = "created"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary-failure"
    PERMANENT_FAILURE = "permanent-failure"
    TECHNICAL_FAILURE = "technical-failure"
    VALIDATION_FAILED = "validation-failed"
    SKIPPED = "skipped"
    SUPERSEDED = "superseded"  # a newer step of the dossier made the message obsolete before it was sent
    UNKNOWN = "unknown"  # the provider may or may not have taken it (timeout after the request was written)


class NotificationStatusChanged(ContractModel):
    """Published on `dvc.notify.status.<status>`; never carries the phone number."""

    notification_id: str
    dossier_code: str | None = None
    template: str
    status: NotificationStatus
    provider: str | None = None
    reason: str | None = None
    changed_at: AwareDatetime

"""What the notifier takes from a dossier event or an alert: identity, time, who to tell, placeholder values.

Kinds are the subject without `dvc.events.` (`dossier.accepted`) or with `dvc.` removed for alerts
(`alerts.dossier.at_risk`, `alerts.task.due_soon`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.contracts import dossier as d
from services.contracts.alerts import DossierAlertRaised, TaskAlertRaised
from services.contracts.events import CloudEvent, EventType
from services.notifier.domain import formatting

ALERT_SOURCE = "urn:dvc:alerts"
_DOSSIER = ("dossier_code", "procedure_code", "agency", "addressee")  # addressee: citizen unless known otherwise
_DUE = ("due_date", "due_time")

# Placeholders each kind always provides (a trigger may only use these, plus constants).
PROVIDED: dict[str, frozenset[str]] = {
    "dossier.submitted": frozenset(_DOSSIER),
    "dossier.accepted": frozenset((*_DOSSIER, *_DUE, "officer")),
    "dossier.rejected": frozenset((*_DOSSIER, "reason", "officer")),
    "dossier.transferred": frozenset((*_DOSSIER, "officer")),
    "dossier.supplement_requested": frozenset((*_DOSSIER, "reason", "officer")),
    "dossier.supplement_received": frozenset(_DOSSIER),
    "dossier.payment_requested": frozenset((*_DOSSIER, "fee")),
    "dossier.paid": frozenset((*_DOSSIER, "fee")),
    "dossier.rescheduled": frozenset((*_DOSSIER, "new_due_date", "new_due_time", "reason", "officer")),
    "dossier.processed": frozenset((*_DOSSIER, "collect", "officer")),
    "dossier.returned": frozenset((*_DOSSIER, "delivery")),
    "dossier.withdrawn": frozenset((*_DOSSIER, "reason")),
    "dossier.stopped": frozenset((*_DOSSIER, "reason", "officer")),
    "alerts.dossier.at_risk": frozenset((*_DOSSIER[:3], *_DUE)),
    "alerts.dossier.overdue": frozenset((*_DOSSIER[:3], *_DUE)),
    "alerts.task.due_soon": frozenset(("task_title", "owner_unit", "deadline", "progress")),
    "alerts.task.overdue": frozenset(("task_title", "owner_unit", "deadline", "progress")),
    "alerts.ops.firing": frozenset(("alert_name", "severity", "summary")),  # Alertmanager (notifier API)
}


@dataclass(frozen=True)
class ApplicantContact:
    """From dossier.submitted / dossier.accepted: the only events carrying the applicant's phone."""

    name: str
    phone: str | None
    sms_consent: bool
    kind: str
    channel: str | None = None  # how the dossier came in (direct, online, postal): how its result goes back


@dataclass(frozen=True)
class Incoming:
    source: str
    id: str
    kind: str
    time: datetime
    dossier_code: str | None = None
    officer: str | None = None  # who handles it (staff directory key)
    unit: str | None = None  # agency / owner unit (staff directory fallback key)
    applicant: ApplicantContact | None = None
    values: dict[str, str] = field(default_factory=dict)
    sequence: int | None = None

    @property
    def identity(self) -> tuple[str, str]:
        return (self.source, self.id)


def _carried(data: d.DossierRef, name: str) -> str | None:
    """A field only some dossier events have (asking a pydantic model for a field it lacks raises, slowly)."""
    value: str | None = getattr(data, name) if name in type(data).model_fields else None
    return value


def _dossier_values(data: d.DossierRef, timezone: str) -> dict[str, str]:
    values = {
        "dossier_code": data.dossier_code,
        "procedure_code": data.procedure_code,
        "agency": data.agency,
        "addressee": "addressee_citizen",  # the intake re-addresses it once the applicant is known
    }
    officer = _carried(data, "officer")
    if officer:
        values["officer"] = officer
    reason = _carried(data, "reason")
    if reason:
        values["reason"] = reason
    if isinstance(data, d.DossierAccepted):
        values["due_date"] = formatting.day(data.due_at, timezone)
        values["due_time"] = formatting.moment(data.due_at, timezone)
    elif isinstance(data, d.DossierPaymentRequested | d.DossierPaid):
        values["fee"] = formatting.vnd(data.fee_amount)
    elif isinstance(data, d.DossierRescheduled):
        values["new_due_date"] = formatting.day(data.new_due_at, timezone)
        values["new_due_time"] = formatting.moment(data.new_due_at, timezone)
    elif isinstance(data, d.DossierProcessed):
        values["collect"] = "collect_electronic" if data.result_electronic else "collect_counter"
    elif isinstance(data, d.DossierReturned):
        values["delivery"] = f"delivery_{data.delivery.value}"
    return values


def from_event(event: CloudEvent, timezone: str, sequence: int | None = None) -> Incoming:
    """A `dossier.*` CloudEvent (validated against the contract) as the notifier sees it."""
    data = event.data
    if not isinstance(data, d.DossierRef):
        raise ValueError(f"{event.type} is not a dossier event")
    applicant = None
    if isinstance(data, d.DossierSubmitted | d.DossierAccepted):
        a = data.applicant
        applicant = ApplicantContact(a.name, a.phone, a.sms_consent, a.kind.value, data.channel.value)
    return Incoming(
        source=event.source,
        id=event.id,
        kind=EventType(event.type).short_name,
        time=event.time,
        dossier_code=data.dossier_code,
        officer=_carried(data, "officer"),
        unit=data.agency,
        applicant=applicant,
        values=_dossier_values(data, timezone),
        sequence=sequence,
    )


def from_dossier_alert(alert: DossierAlertRaised, timezone: str, sequence: int | None = None) -> Incoming:
    values = {
        "dossier_code": alert.dossier_code,
        "procedure_code": alert.procedure_code,
        "agency": alert.agency,
        "due_date": formatting.day(alert.due_at, timezone),
        "due_time": formatting.moment(alert.due_at, timezone),
    }
    if alert.officer:
        values["officer"] = alert.officer
    return Incoming(
        source=ALERT_SOURCE,
        id=alert.alert_id,
        kind=f"alerts.dossier.{alert.kind.value}",
        time=alert.raised_at,
        dossier_code=alert.dossier_code,
        officer=alert.officer,
        unit=alert.agency,
        values=values,
        sequence=sequence,
    )


def from_task_alert(alert: TaskAlertRaised, sequence: int | None = None) -> Incoming:
    values = {
        "task_title": alert.title,
        "owner_unit": alert.owner_unit,
        "deadline": formatting.day(alert.deadline),
        "progress": str(alert.progress_percent),
    }
    return Incoming(
        source=ALERT_SOURCE,
        id=alert.alert_id,
        kind=f"alerts.task.{alert.kind.value}",
        time=alert.raised_at,
        unit=alert.owner_unit,
        values=values,
        sequence=sequence,
    )

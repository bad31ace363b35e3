"""Parameters of a simulation and the ground truth it records (the facts an end-to-end test needs)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from services.simulator.people import PhoneKind

Office = Literal["legal", "always"]


@dataclass(frozen=True, slots=True)
class Config:
    """Every tunable share and volume. Shares are probabilities in [0, 1]."""

    daily_dossiers: float = 60.0  # mean dossiers submitted per working day (before weekday/month factors)
    online_share: float = 0.62
    postal_share: float = 0.03  # the rest is direct (at the counter)
    late_share: float = 0.08  # calibrates the handling share (lateness.py): about this share is processed late
    reject_share: float = 0.03  # refused at intake (no clock)
    withdraw_share: float = 0.015
    stop_share: float = 0.015  # supplement requested, never received, processing stopped
    supplement_share: float = 0.10
    second_supplement_share: float = 0.15  # of supplemented dossiers (makes them late by rule)
    transfer_share: float = 0.10
    reschedule_share: float = 0.6  # of late dossiers: an apology slip with a new due date
    feedback_share: float = 0.3  # of returned dossiers
    sms_consent_share: float = 0.85
    documents_per_day: float = 12.0  # document.completed per working day
    fully_electronic_share: float = 0.96
    # Live-demo knobs: arrivals x intensity, handling durations / time_scale, staff hours.
    intensity: float = 1.0
    time_scale: float = 1.0
    office: Office = "legal"

    def with_overrides(self, **changes: Any) -> Config:
        return replace(self, **{key: value for key, value in changes.items() if value is not None})


@dataclass(frozen=True, slots=True)
class Pause:
    kind: Literal["supplement", "payment"]
    start: datetime
    end: datetime | None  # None: still open (never received / not yet at the cutoff)


@dataclass(slots=True)
class DossierTruth:
    """Everything that happened to one dossier (times are the events' `time`)."""

    dossier_code: str
    procedure_code: str
    level: str
    agency: str  # handling agency at acceptance
    receiving_agency: str
    channel: str
    applicant_kind: str
    phone_kind: PhoneKind
    sms_consent: bool
    submitted_at: datetime
    final_agency: str = ""  # handling agency after the last transfer
    officer: str | None = None  # handling officer of record (assigned at acceptance, then transfers)
    assigned_officer: str | None = None  # handling officer assigned at acceptance
    accepted_at: datetime | None = None
    rejected_at: datetime | None = None
    due_at: datetime | None = None  # original due date (judgement)
    rescheduled_at: datetime | None = None
    rescheduled_due_at: datetime | None = None  # the apology slip's new promise (not used for judgement)
    pauses: list[Pause] = field(default_factory=list)
    supplement_requests: list[datetime] = field(default_factory=list)
    transfers: list[tuple[datetime, str, str]] = field(default_factory=list)  # (time, to_agency, to_officer)
    digitized: bool | None = None
    reused_data: bool | None = None
    fee: int = 0
    payment_requested_at: datetime | None = None
    paid_at: datetime | None = None
    paid_online: bool | None = None
    processed_at: datetime | None = None
    result_electronic: bool | None = None
    result_digitized: bool | None = None
    returned_at: datetime | None = None
    delivery: str | None = None
    withdrawn_at: datetime | None = None
    stopped_at: datetime | None = None
    feedback_at: datetime | None = None
    feedback_satisfied: bool | None = None
    planned_late: bool = False  # handling share above 1, or processed past the due date anyway (lateness.py)

    @property
    def ended_at(self) -> datetime | None:
        ends = [t for t in (self.processed_at, self.withdrawn_at, self.stopped_at) if t is not None]
        return min(ends) if ends and self.accepted_at is not None else None

    @property
    def end_kind(self) -> str | None:
        ended = self.ended_at
        if ended is None:
            return None
        if ended == self.processed_at:
            return "processed"
        return "withdrawn" if ended == self.withdrawn_at else "stopped"

    @property
    def late_by_rule_at(self) -> datetime | None:
        """A second supplement request makes the dossier late (design §4)."""
        return self.supplement_requests[1] if len(self.supplement_requests) >= 2 else None


@dataclass(frozen=True, slots=True)
class DocumentTruth:
    document_id: str
    agency: str
    completed_at: datetime
    fully_electronic: bool

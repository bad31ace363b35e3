"""Ground truth of a simulation and the indicator values it implies, computed from the recorded facts alone
(design §4 clock rules and §5 counting rules), never from the services' code: what an end-to-end test
compares the services' answers with."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from services.simulator.calendar import LegalCalendar
from services.simulator.catalog import Procedure
from services.simulator.model import DocumentTruth, DossierTruth, Pause

Counts = dict[str, tuple[int, int]]


def _before(value: datetime | None, at: datetime) -> datetime | None:
    return value if value is not None and value <= at else None


def dossier_as_of(dossier: DossierTruth, at: datetime) -> DossierTruth:
    """The dossier as it stood at instant `at`: every fact recorded after `at` is forgotten."""
    accepted = _before(dossier.accepted_at, at)
    transfers = [entry for entry in dossier.transfers if entry[0] <= at]
    pauses = [Pause(p.kind, p.start, _before(p.end, at)) for p in dossier.pauses if p.start <= at]
    paid = _before(dossier.paid_at, at)
    processed = _before(dossier.processed_at, at)
    returned = _before(dossier.returned_at, at)
    feedback = _before(dossier.feedback_at, at)
    return replace(
        dossier,
        accepted_at=accepted,
        rejected_at=_before(dossier.rejected_at, at),
        due_at=dossier.due_at if accepted else None,
        rescheduled_at=_before(dossier.rescheduled_at, at),
        rescheduled_due_at=dossier.rescheduled_due_at if _before(dossier.rescheduled_at, at) else None,
        pauses=pauses,
        supplement_requests=[t for t in dossier.supplement_requests if t <= at],
        transfers=transfers,
        final_agency=transfers[-1][1] if transfers else dossier.agency,
        officer=transfers[-1][2] if transfers else (dossier.assigned_officer if accepted else None),
        digitized=dossier.digitized if accepted else None,
        reused_data=dossier.reused_data if accepted else None,
        payment_requested_at=_before(dossier.payment_requested_at, at),
        paid_at=paid,
        paid_online=dossier.paid_online if paid else None,
        processed_at=processed,
        result_electronic=dossier.result_electronic if processed else None,
        result_digitized=dossier.result_digitized if processed else None,
        returned_at=returned,
        delivery=dossier.delivery if returned else None,
        withdrawn_at=_before(dossier.withdrawn_at, at),
        stopped_at=_before(dossier.stopped_at, at),
        feedback_at=feedback,
        feedback_satisfied=dossier.feedback_satisfied if feedback else None,
    )


def paused_seconds(dossier: DossierTruth, legal: LegalCalendar, closed_only: bool = False) -> float:
    """Working seconds paused; a pause still open counts up to the end of the clock (if it ended)."""
    end_of_clock = dossier.ended_at
    total = 0.0
    for pause in dossier.pauses:
        end = pause.end or end_of_clock
        if end is None or (closed_only and pause.end is None and end_of_clock is None):
            continue
        total += max(0.0, legal.working_seconds_between(pause.start, end))
    return total


def extended_due_at(dossier: DossierTruth, legal: LegalCalendar) -> datetime | None:
    """Original due date + working time paused (closed pauses; all pauses once the clock ended)."""
    if dossier.due_at is None:
        return None
    return legal.add_working_time(dossier.due_at, paused_seconds(dossier, legal, closed_only=True))


def on_time(dossier: DossierTruth, legal: LegalCalendar) -> bool | None:
    """For an ended dossier: ended at or before its extended due date and never made late by rule."""
    ended, extended = dossier.ended_at, extended_due_at(dossier, legal)
    if ended is None or extended is None:
        return None
    return dossier.late_by_rule_at is None and ended <= extended


def overdue_from(dossier: DossierTruth, legal: LegalCalendar) -> datetime | None:
    """For an open dossier: the instant it becomes (or became) overdue; None while paused before its due."""
    extended = extended_due_at(dossier, legal)
    if dossier.accepted_at is None or dossier.ended_at is not None or extended is None:
        return None
    candidates = [] if dossier.late_by_rule_at is None else [dossier.late_by_rule_at]
    open_pauses = [pause.start for pause in dossier.pauses if pause.end is None]
    if not (open_pauses and min(open_pauses) <= extended):
        candidates.append(extended)
    return min(candidates) if candidates else None


@dataclass
class Truth:
    procedures: list[Procedure]
    published_at: datetime
    dossiers: dict[str, DossierTruth] = field(default_factory=dict)
    documents: list[DocumentTruth] = field(default_factory=list)
    cutoff: datetime | None = None

    def as_of(self, at: datetime) -> Truth:
        dossiers = {code: dossier_as_of(d, at) for code, d in self.dossiers.items() if d.submitted_at <= at}
        documents = [document for document in self.documents if document.completed_at <= at]
        return Truth(self.procedures, self.published_at, dossiers, documents, at)

    def merge(self, other: Truth) -> None:
        self.dossiers.update(other.dossiers)
        self.documents.extend(other.documents)


def _ratio(rows: list[bool]) -> tuple[int, int]:
    return sum(rows), len(rows)


def expected_indicators(
    truth: Truth, start: datetime, end: datetime, now: datetime, legal: LegalCalendar, agency: str | None = None
) -> Counts:
    """`{code: (numerator, denominator)}` for the period [start, end), judged at `now` (design §5); with
    `agency`, only the dossiers handled by it (after transfers) and the documents it completed."""

    def within(instant: datetime | None) -> bool:
        return instant is not None and start <= instant < end

    dossiers = [d for d in truth.dossiers.values() if agency is None or d.final_agency == agency]
    documents = [doc for doc in truth.documents if agency is None or doc.agency == agency]
    accepted = [d for d in dossiers if within(d.accepted_at)]
    partial = [d for d in accepted if d.level in ("full", "partial")]
    returned = [d for d in dossiers if within(d.returned_at)]
    procedures = truth.procedures if truth.published_at < end else []
    business = [p for p in procedures if p.business_related]
    eligible = [p for p in procedures if p.eligible_full_online]
    at = min(end, now)
    counts: Counts = {
        "I15": _ratio([p.boundary_free for p in procedures]),
        "I16": _ratio([p.level.value in ("full", "partial") for p in business]),
        "I17": _ratio([d.channel in ("online", "postal") and d.delivery in ("electronic", "postal") for d in returned]),
        "I18": _ratio([bool(d.digitized and d.result_digitized) for d in returned]),
        "I19": _ratio([p.level.value == "full" for p in eligible]),
        "I20": _ratio([d.channel == "online" for d in accepted]),
        "I21": _ratio([d.channel == "online" for d in partial]),
        "I22": _ratio([bool(d.result_electronic) for d in dossiers if within(d.processed_at)]),
        "I23": _ratio([bool(d.reused_data) for d in accepted]),
        "I24": _ratio([bool(d.paid_online) for d in dossiers if within(d.paid_at)]),
        "I25": _ratio([doc.fully_electronic for doc in documents if within(doc.completed_at)]),
    }
    ended = [bool(on_time(d, legal)) for d in dossiers if within(d.ended_at)]
    open_then = [dossier_as_of(d, at) for d in dossiers if d.accepted_at is not None and d.accepted_at < at]
    timely = []
    for d in open_then:
        if d.ended_at is None:
            becomes = overdue_from(d, legal)
            timely.append(becomes is None or becomes >= at)
    counts["ONTIME"] = (sum(ended) + sum(timely), len(ended) + len(timely))
    return counts


def truth_document(truth: Truth, legal: LegalCalendar) -> dict[str, Any]:
    """JSON-ready ground truth: every recorded fact plus the derived clock judgement per dossier."""
    dossiers = []
    for dossier in truth.dossiers.values():
        row = asdict(dossier)
        row.update(
            ended_at=dossier.ended_at,
            end_kind=dossier.end_kind,
            paused_working_seconds=paused_seconds(dossier, legal),
            extended_due_at=extended_due_at(dossier, legal),
            on_time=on_time(dossier, legal),
            overdue_from=overdue_from(dossier, legal),
        )
        dossiers.append(row)
    return {
        "cutoff": truth.cutoff,
        "published_at": truth.published_at,
        "procedures": [procedure.model_dump(mode="json") for procedure in truth.procedures],
        "dossiers": dossiers,
        "documents": [asdict(document) for document in truth.documents],
    }

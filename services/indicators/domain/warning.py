"""Early-warning decisions (pure): dossier clocks -> risk observations -> at-risk and overdue alerts.

An alert is raised ONCE per dossier and kind; its id (`at_risk:<dossier_code>`, `overdue:<dossier_code>`)
is both the table key and the `Nats-Msg-Id`, so a republished alert is never a second alert.
- `overdue`: the dossier is open past its (extended) due date, or was made late by a second supplement
  request (design §4);
- `at_risk`: the dossier is open and not yet overdue, and by the configured method (`AtRiskCriterion`)
  either its clock used at least `rule_cut` of the allotted time (`rule`), or `P(late | open at f) >=
  threshold` (`model`). Which one is the default follows the backtest (docs/indicators.md, "Early warning").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.contracts.alerts import DossierAlertKind, DossierAlertRaised
from services.indicators.domain.calendar import WorkingClock
from services.indicators.domain.dossier import DossierState, elapsed_working_seconds, is_open, is_overdue
from services.indicators.domain.risk import LATE_AFTER, Basis, Observation, RiskEstimate, RiskModel

KIND_LABELS = {
    DossierAlertKind.AT_RISK: "Hồ sơ có nguy cơ quá hạn",
    DossierAlertKind.OVERDUE: "Hồ sơ đã quá hạn",
}
_JUST_LATE = LATE_AFTER * (1.0 + 1e-9)


class WarningMethod(StrEnum):
    RULE = "rule"  # warn when the clock used `rule_cut` of the allotted working time
    MODEL = "model"  # warn when the survival model's P(late) reaches `threshold`


@dataclass(frozen=True, slots=True)
class AtRiskCriterion:
    method: WarningMethod = WarningMethod.RULE
    rule_cut: float = 0.95
    threshold: float = 0.85

    def __post_init__(self) -> None:
        if not (0.0 < self.rule_cut <= 1.0 and 0.0 < self.threshold <= 1.0):
            raise ValueError("rule_cut and threshold must be in (0, 1]")


def alert_id(kind: DossierAlertKind, dossier_code: str) -> str:
    return f"{kind.value}:{dossier_code}"


def allotted_seconds(state: DossierState, clock: WorkingClock) -> float | None:
    """Working seconds from acceptance to the ORIGINAL due date (pauses extend both sides equally)."""
    if state.accepted_at is None or state.due_at is None:
        return None
    allotted = clock.working_seconds_between(state.accepted_at, state.due_at)
    return allotted if allotted > 0 else None


def clock_fraction(state: DossierState, at: datetime, clock: WorkingClock) -> float | None:
    """Working time used (pauses excluded) / allotted, at instant `at` (or at the end of the clock)."""
    allotted = allotted_seconds(state, clock)
    elapsed = elapsed_working_seconds(state, at, clock)
    if allotted is None or elapsed is None:
        return None
    return elapsed / allotted


def observation(state: DossierState, at: datetime, clock: WorkingClock) -> Observation | None:
    """The dossier as a survival sample at `at`: ended (an event at the fraction it used) or open (censored
    at the fraction used so far). The model learns lateness BY TIME: a dossier late by time counts just
    beyond 1 even when rounding says otherwise; one made late by a second supplement request (an instant
    rule no clock predicts, design §4) counts at the fraction it really used."""
    if state.accepted_at is None or state.accepted_at > at:
        return None
    fraction = clock_fraction(state, at, clock)
    if fraction is None:
        return None
    if state.ended_at is not None and state.ended_at <= at:
        if state.on_time:
            fraction = min(fraction, LATE_AFTER)
        elif state.late_at is None:
            fraction = max(fraction, _JUST_LATE)
        return Observation(state.procedure_code, state.agency, fraction, ended=True)
    if state.late_at is None and is_overdue(state, at):
        fraction = max(fraction, _JUST_LATE)
    return Observation(state.procedure_code, state.agency, fraction, ended=False)


def observations(states: Iterable[DossierState], at: datetime, clock: WorkingClock) -> list[Observation]:
    return [item for state in states if (item := observation(state, at, clock)) is not None]


def assess(state: DossierState, at: datetime, model: RiskModel, clock: WorkingClock) -> RiskEstimate | None:
    """Risk of an open dossier at `at` (1.0 once overdue); None for a closed dossier or without a model."""
    if not is_open(state):
        return None
    fraction = clock_fraction(state, at, clock)
    estimate = None if fraction is None else model.estimate(state.procedure_code, state.agency, fraction)
    if not is_overdue(state, at):
        return estimate
    if estimate is not None:
        return RiskEstimate(1.0, estimate.basis, estimate.sample_size, estimate.censored)
    return RiskEstimate(1.0, Basis.ALL, model.overall.events, model.overall.censored)


@dataclass(frozen=True, slots=True)
class DossierAlert:
    alert_id: str
    kind: DossierAlertKind
    dossier_code: str
    procedure_code: str
    agency: str
    officer: str | None
    due_at: datetime
    raised_at: datetime
    risk: RiskEstimate | None = None

    def message(self) -> DossierAlertRaised:
        return DossierAlertRaised(
            alert_id=self.alert_id,
            kind=self.kind,
            dossier_code=self.dossier_code,
            procedure_code=self.procedure_code,
            agency=self.agency,
            officer=self.officer,
            due_at=self.due_at,
            risk=None if self.risk is None else self.risk.probability,
            raised_at=self.raised_at,
        )


@dataclass
class SweepDecision:
    alerts: list[DossierAlert] = field(default_factory=list)
    at_risk_by_agency: dict[str, int] = field(default_factory=dict)  # open, not overdue, risk >= threshold
    at_risk_by_procedure: dict[tuple[str, str], int] = field(default_factory=dict)  # (agency, procedure code)


def _alert(kind: DossierAlertKind, state: DossierState, at: datetime, risk: RiskEstimate | None) -> DossierAlert:
    due = state.extended_due_at or state.due_at
    if due is None:
        raise ValueError(f"dossier {state.dossier_code} has no due date")
    return DossierAlert(
        alert_id(kind, state.dossier_code),
        kind,
        state.dossier_code,
        state.procedure_code,
        state.agency,
        state.officer,
        due,
        at,
        risk,
    )


def _at_risk(
    state: DossierState, at: datetime, model: RiskModel, clock: WorkingClock, criterion: AtRiskCriterion
) -> tuple[bool, RiskEstimate | None]:
    """Whether an open, not overdue dossier is at risk, and the model's estimate shown with the alert (the
    rule's alerts carry none: the rule does not estimate a probability)."""
    if criterion.method is WarningMethod.RULE:
        fraction = clock_fraction(state, at, clock)
        return fraction is not None and fraction >= criterion.rule_cut, None
    estimate = assess(state, at, model, clock)
    return estimate is not None and estimate.probability >= criterion.threshold, estimate


def decide(
    open_states: Iterable[DossierState],
    at: datetime,
    model: RiskModel,
    clock: WorkingClock,
    criterion: AtRiskCriterion,
    raised: Collection[str],
) -> SweepDecision:
    """New alerts for the open dossiers at `at` (ids in `raised` are never raised again) and the at-risk counts."""
    decision = SweepDecision()
    counts: dict[str, int] = defaultdict(int)
    by_procedure: dict[tuple[str, str], int] = defaultdict(int)
    for state in open_states:
        if not is_open(state) or state.due_at is None:
            continue
        counts.setdefault(state.agency, 0)  # an agency with open dossiers shows 0 at risk, not no data
        by_procedure.setdefault((state.agency, state.procedure_code), 0)
        if is_overdue(state, at):
            if alert_id(DossierAlertKind.OVERDUE, state.dossier_code) not in raised:
                decision.alerts.append(_alert(DossierAlertKind.OVERDUE, state, at, None))
            continue
        at_risk, estimate = _at_risk(state, at, model, clock, criterion)
        if not at_risk:
            continue
        counts[state.agency] += 1
        by_procedure[(state.agency, state.procedure_code)] += 1
        if alert_id(DossierAlertKind.AT_RISK, state.dossier_code) not in raised:
            decision.alerts.append(_alert(DossierAlertKind.AT_RISK, state, at, estimate))
    decision.at_risk_by_agency = dict(counts)
    decision.at_risk_by_procedure = dict(by_procedure)
    return decision

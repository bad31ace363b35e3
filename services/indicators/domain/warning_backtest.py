"""Backtest of the early warning on a history of dossier events, with a time-ordered protocol (pure).

The history is replayed in event-time order. At every sweep instant (every `step_seconds` of event time,
skipping instants when neither working time passed nor an event arrived) each open dossier not yet overdue
is assessed ONCE: its clock fraction `f` (working time used / allotted) and the model's `P(late | open at f)`
(a model fitted only on what was known at that instant, refitted every `refit_seconds` of event time).
Every rule cut (`f >= cut`) and every model threshold (`P >= threshold`) is derived from that one
assessment; the first warning of each cut and threshold counts.

Protocol: dossiers accepted in the first `warmup_days` train the model but are not scored. The rest of the
history (the scored period) is split in time: dossiers accepted in its first `choose_share` CHOOSE the
rule's cut and the model's threshold (best F1, the same criterion for both), judged with what was known at
the split instant (outcomes then, warnings up to then); dossiers accepted after the split are SCORED at the
end of the history with the chosen cut and threshold. A dossier is late (ended late, or open past due), on
time (ended on time) or unknown (open, not due: not scored).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.indicators.domain.calendar import WorkingClock
from services.indicators.domain.dossier import DossierEvent, DossierState, apply_event, is_open, is_overdue
from services.indicators.domain.risk import Observation, RiskModel
from services.indicators.domain.warning import clock_fraction, observation
from services.indicators.domain.warning_scoring import Evaluation, Outcomes, evaluate

RULE_CUTS = tuple(round(0.5 + 0.05 * step, 2) for step in range(11))  # 50% .. 100% of the allotted time
MODEL_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98)


@dataclass(frozen=True)
class BacktestSettings:
    step_seconds: float = 900.0
    min_samples: int = 30
    training_days: float = 365.0
    refit_seconds: float = 86_400.0
    warmup_days: float = 30.0
    choose_share: float = 0.5  # first share of the scored period that chooses; the rest is scored
    rule_cuts: tuple[float, ...] = RULE_CUTS
    thresholds: tuple[float, ...] = MODEL_THRESHOLDS

    def __post_init__(self) -> None:
        if not 0.0 < self.choose_share < 1.0:
            raise ValueError("choose_share must be strictly between 0 and 1")
        if not self.rule_cuts or not self.thresholds:
            raise ValueError("at least one rule cut and one model threshold are needed")


@dataclass(frozen=True)
class BacktestResult:
    start: datetime
    end: datetime
    scored_from: datetime
    split: datetime
    events: int
    instants: int
    choosing: int  # dossiers of the choosing part with a known outcome at the split
    choosing_late: int
    scoring: int  # dossiers of the scored part with a known outcome at the end
    scoring_late: int
    rule: Evaluation
    model: Evaluation


@dataclass
class _Replay:
    clock: WorkingClock
    settings: BacktestSettings
    states: dict[str, DossierState] = field(default_factory=dict)
    open_codes: set[str] = field(default_factory=set)
    finished: list[tuple[datetime, Observation]] = field(default_factory=list)
    rule: dict[float, dict[str, datetime]] = field(default_factory=dict)
    model: dict[float, dict[str, datetime]] = field(default_factory=dict)
    next_cut: dict[str, int] = field(default_factory=dict)  # index of the first rule cut not yet crossed
    pending: dict[str, list[float]] = field(default_factory=dict)  # model thresholds not yet reached
    fitted: RiskModel | None = None
    fitted_at: datetime | None = None

    def __post_init__(self) -> None:
        self.cuts = sorted(set(self.settings.rule_cuts))
        self.thresholds = sorted(set(self.settings.thresholds))
        self.rule = {cut: {} for cut in self.cuts}
        self.model = {threshold: {} for threshold in self.thresholds}

    def apply(self, event: DossierEvent) -> None:
        was_open = event.dossier_code in self.open_codes
        state = apply_event(self.states.get(event.dossier_code), event, self.clock)
        self.states[event.dossier_code] = state
        if is_open(state):
            self.open_codes.add(event.dossier_code)
        elif was_open:
            self.open_codes.discard(event.dossier_code)
            ended_at = state.ended_at
            item = None if ended_at is None else observation(state, ended_at, self.clock)
            if item is not None and state.accepted_at is not None:
                self.finished.append((state.accepted_at, item))

    def refit(self, at: datetime) -> RiskModel:
        stale = self.fitted_at is None or (at - self.fitted_at).total_seconds() >= self.settings.refit_seconds
        if self.fitted is None or stale:
            since = at - timedelta(days=self.settings.training_days)
            samples = [item for accepted, item in self.finished if accepted >= since]
            for code in self.open_codes:
                state = self.states[code]
                item = observation(state, at, self.clock)
                if item is not None and state.accepted_at is not None and state.accepted_at >= since:
                    samples.append(item)
            self.fitted = RiskModel(samples, self.settings.min_samples)
            self.fitted_at = at
        return self.fitted

    def sweep(self, at: datetime) -> None:
        model = self.refit(at)
        for code in self.open_codes:
            next_cut = self.next_cut.setdefault(code, 0)
            pending = self.pending.setdefault(code, list(self.thresholds))
            state = self.states[code]
            if (next_cut == len(self.cuts) and not pending) or is_overdue(state, at):
                continue
            fraction = clock_fraction(state, at, self.clock)
            if fraction is None:
                continue
            while next_cut < len(self.cuts) and fraction >= self.cuts[next_cut]:
                self.rule[self.cuts[next_cut]][code] = at
                next_cut += 1
            self.next_cut[code] = next_cut
            if not pending:
                continue
            estimate = model.estimate(state.procedure_code, state.agency, fraction)
            if estimate is None:
                continue
            for threshold in [value for value in pending if estimate.probability >= value]:
                self.model[threshold][code] = at
                pending.remove(threshold)


def _became_late(state: DossierState) -> datetime | None:
    candidates = [instant for instant in (state.extended_due_at, state.late_at) if instant is not None]
    return min(candidates) if candidates else None


def outcomes(
    states: Iterable[DossierState], at: datetime, accepted_from: datetime, accepted_before: datetime | None = None
) -> dict[str, datetime | None]:
    """Dossiers accepted in [accepted_from, accepted_before) with an outcome known at `at`: code -> the instant
    it became late, or None when it ended on time."""
    known: dict[str, datetime | None] = {}
    for state in states:
        accepted = state.accepted_at
        if accepted is None or accepted < accepted_from:
            continue
        if accepted_before is not None and accepted >= accepted_before:
            continue
        if state.ended_at is not None and state.ended_at <= at:
            known[state.dossier_code] = _became_late(state) if state.on_time is False else None
        elif is_overdue(state, at):
            known[state.dossier_code] = _became_late(state)
    return known


def _late(items: Outcomes) -> int:
    return sum(1 for value in items.values() if value is not None)


def backtest(events: Iterable[DossierEvent], clock: WorkingClock, settings: BacktestSettings) -> BacktestResult:
    """Replay `events` (any order; duplicates by (source, id) dropped) and evaluate the rule and the model."""
    ordered = sorted({(event.source, event.id): event for event in events}.values(), key=lambda item: item.key)
    if not ordered:
        raise ValueError("the history has no dossier event")
    replay = _Replay(clock, settings)
    start, end = ordered[0].time, ordered[-1].time
    scored_from = start + timedelta(days=settings.warmup_days)
    split = scored_from + (end - scored_from) * settings.choose_share if end > scored_from else scored_from
    choosing: dict[str, datetime | None] | None = None
    step = timedelta(seconds=settings.step_seconds)
    index = instants = 0
    previous: datetime | None = None
    at = start
    while True:
        arrived = index
        while index < len(ordered) and ordered[index].time <= at:
            replay.apply(ordered[index])
            index += 1
        if index > arrived or previous is None or clock.working_seconds_between(previous, at) > 0:
            replay.sweep(at)
            instants += 1
            previous = at
        if choosing is None and at >= split:
            choosing = outcomes(replay.states.values(), at, scored_from, split)
        if at >= end:
            break
        at = min(at + step, end, split) if at < split else min(at + step, end)
    assert choosing is not None
    scoring = outcomes(replay.states.values(), end, split)
    return BacktestResult(
        start=start,
        end=end,
        scored_from=scored_from,
        split=split,
        events=len(ordered),
        instants=instants,
        choosing=len(choosing),
        choosing_late=_late(choosing),
        scoring=len(scoring),
        scoring_late=_late(scoring),
        rule=evaluate("rule", replay.rule, choosing, split, scoring, clock),
        model=evaluate("model", replay.model, choosing, split, scoring, clock),
    )

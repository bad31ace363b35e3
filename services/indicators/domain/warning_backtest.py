"""Backtest of the early warning on a history of dossier events (pure).

The history is replayed in event-time order. At every sweep instant (every `step_seconds` of event time,
skipping instants when neither working time passed nor an event arrived) each open dossier not yet overdue
is assessed twice:
- the MODEL: `P(late | open at f) >= threshold`, with a model fitted only on what was known at that
  instant (dossiers ended by then, and open ones censored at their fraction then), refitted every
  `refit_seconds` of event time;
- the RULE: warn when `f >= rule_fraction` (80% of the allotted working time used).
The first warning of each method counts. At the end of the history a dossier is late (ended late, or still
open past its due date), on time (ended on time) or unknown (still open, not due: not scored). Dossiers
accepted during the first `warmup_days` train the model but are not scored (the model starts empty).

Lead time: working hours from the warning to the instant the dossier became late (its extended due date,
or the second supplement request).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.indicators.domain.calendar import WorkingClock
from services.indicators.domain.dossier import DossierEvent, DossierState, apply_event, is_open, is_overdue
from services.indicators.domain.risk import Observation, RiskModel
from services.indicators.domain.warning import clock_fraction, observation


@dataclass(frozen=True)
class BacktestSettings:
    step_seconds: float = 900.0
    threshold: float = 0.9
    rule_fraction: float = 0.8
    min_samples: int = 30
    training_days: float = 365.0
    refit_seconds: float = 86_400.0
    warmup_days: float = 30.0
    thresholds: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


@dataclass(frozen=True)
class Score:
    name: str
    warned: int
    true_positives: int
    false_positives: int
    false_negatives: int
    median_lead_hours: float | None

    @property
    def precision(self) -> float | None:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        late = self.true_positives + self.false_negatives
        return self.true_positives / late if late else None

    @property
    def f1(self) -> float:
        precision, recall = self.precision or 0.0, self.recall or 0.0
        return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@dataclass(frozen=True)
class BacktestResult:
    start: datetime
    end: datetime
    events: int
    instants: int
    scored: int
    late: int
    model: Score
    rule: Score
    by_threshold: list[Score]


@dataclass
class _Replay:
    clock: WorkingClock
    settings: BacktestSettings
    states: dict[str, DossierState] = field(default_factory=dict)
    open_codes: set[str] = field(default_factory=set)
    finished: list[tuple[datetime, Observation]] = field(default_factory=list)
    rule: dict[str, datetime] = field(default_factory=dict)
    model: dict[float, dict[str, datetime]] = field(default_factory=dict)
    fitted: RiskModel | None = None
    fitted_at: datetime | None = None

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
        thresholds = self.model.keys()
        for code in self.open_codes:
            state = self.states[code]
            pending = [threshold for threshold in thresholds if code not in self.model[threshold]]
            if (code in self.rule and not pending) or is_overdue(state, at):
                continue
            fraction = clock_fraction(state, at, self.clock)
            if fraction is None:
                continue
            if code not in self.rule and fraction >= self.settings.rule_fraction:
                self.rule[code] = at
            if not pending:
                continue
            estimate = model.estimate(state.procedure_code, state.agency, fraction)
            if estimate is None:
                continue
            for threshold in pending:
                if estimate.probability >= threshold:
                    self.model[threshold][code] = at


def _became_late(state: DossierState) -> datetime | None:
    candidates = [instant for instant in (state.extended_due_at, state.late_at) if instant is not None]
    return min(candidates) if candidates else None


def _outcomes(replay: _Replay, end: datetime, scored_from: datetime) -> dict[str, datetime | None]:
    """Scored dossiers: code -> the instant it became late, or None when it ended on time."""
    outcomes: dict[str, datetime | None] = {}
    for code, state in replay.states.items():
        if state.accepted_at is None or state.accepted_at < scored_from:
            continue
        if state.ended_at is not None:
            outcomes[code] = _became_late(state) if state.on_time is False else None
        elif is_overdue(state, end):
            outcomes[code] = _became_late(state)
    return outcomes


def _score(
    name: str, warnings: dict[str, datetime], outcomes: dict[str, datetime | None], clock: WorkingClock
) -> Score:
    true_positives = false_positives = false_negatives = 0
    leads: list[float] = []
    for code, late_at in outcomes.items():
        warned_at = warnings.get(code)
        if late_at is None:
            false_positives += warned_at is not None
        elif warned_at is None:
            false_negatives += 1
        else:
            true_positives += 1
            leads.append(max(0.0, clock.working_seconds_between(warned_at, late_at)) / 3600.0)
    warned = sum(1 for code in outcomes if code in warnings)
    median = statistics.median(leads) if leads else None
    return Score(name, warned, true_positives, false_positives, false_negatives, median)


def backtest(events: Iterable[DossierEvent], clock: WorkingClock, settings: BacktestSettings) -> BacktestResult:
    """Replay `events` (any order; duplicates by (source, id) dropped) and score the model and the rule."""
    ordered = sorted({(event.source, event.id): event for event in events}.values(), key=lambda item: item.key)
    if not ordered:
        raise ValueError("the history has no dossier event")
    replay = _Replay(clock, settings, model={threshold: {} for threshold in {*settings.thresholds, settings.threshold}})
    start, end = ordered[0].time, ordered[-1].time
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
        if at >= end:
            break
        at = min(at + step, end)
    outcomes = _outcomes(replay, end, start + timedelta(days=settings.warmup_days))
    thresholds = sorted(replay.model)
    by_threshold = [
        _score(f"model (P(late) >= {threshold:.2f})", replay.model[threshold], outcomes, clock)
        for threshold in thresholds
    ]
    model = by_threshold[thresholds.index(settings.threshold)]
    rule = _score(f"rule ({settings.rule_fraction:.0%} of allotted time used)", replay.rule, outcomes, clock)
    late = sum(1 for value in outcomes.values() if value is not None)
    return BacktestResult(start, end, len(ordered), instants, len(outcomes), late, model, rule, by_threshold)

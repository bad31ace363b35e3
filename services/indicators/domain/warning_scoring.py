"""Scoring of early warnings against what happened, and the choice of a cut on earlier data (pure).

A warning method is a map `dossier code -> first warning instant`; an outcome map says, for every scored
dossier, the instant it became late (None when it ended on time). A method's parameter (the rule's cut,
the model's threshold) is chosen by F1 on the CHOOSING part of a history and scored on the later part.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.indicators.domain.calendar import WorkingClock

Outcomes = Mapping[str, datetime | None]  # code -> instant it became late, None when it ended on time
Warnings = Mapping[str, datetime]  # code -> first warning instant


@dataclass(frozen=True)
class Score:
    method: str  # "rule" or "model"
    parameter: float  # the rule's cut (share of allotted time used) or the model's threshold
    scored: int
    warned: int
    true_positives: int
    false_positives: int
    false_negatives: int
    median_lead_hours: float | None

    @property
    def name(self) -> str:
        if self.method == "rule":
            return f"rule (used >= {self.parameter:.0%})"
        return f"model (P(late) >= {self.parameter:.2f})"

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

    @property
    def alerts_per_100(self) -> float:
        """At-risk alerts per 100 scored dossiers: the load the warning puts on the staff."""
        return 100.0 * self.warned / self.scored if self.scored else 0.0


def score(
    method: str,
    parameter: float,
    warnings: Warnings,
    outcomes: Outcomes,
    clock: WorkingClock,
    until: datetime | None = None,
) -> Score:
    """Score the warnings raised at or before `until` (all when None) on the dossiers of `outcomes`.

    Lead time: working hours from the warning to the instant the dossier became late.
    """
    true_positives = false_positives = false_negatives = warned = 0
    leads: list[float] = []
    for code, late_at in outcomes.items():
        warned_at = warnings.get(code)
        if warned_at is not None and until is not None and warned_at > until:
            warned_at = None
        warned += warned_at is not None
        if late_at is None:
            false_positives += warned_at is not None
        elif warned_at is None:
            false_negatives += 1
        else:
            true_positives += 1
            leads.append(max(0.0, clock.working_seconds_between(warned_at, late_at)) / 3600.0)
    median = statistics.median(leads) if leads else None
    return Score(method, parameter, len(outcomes), warned, true_positives, false_positives, false_negatives, median)


def choose(scores: Sequence[Score]) -> Score:
    """The best F1; among ties the first (lowest cut or threshold: the earliest warning)."""
    if not scores:
        raise ValueError("nothing to choose from")
    best = scores[0]
    for item in scores[1:]:
        if item.f1 > best.f1 + 1e-12:
            best = item
    return best


@dataclass(frozen=True)
class Evaluation:
    """One method under the protocol: its sweep on the choosing part, and the chosen value scored later."""

    in_sample: list[Score]
    chosen: Score  # the in-sample score of the chosen parameter
    out_of_sample: Score


def evaluate(
    method: str,
    warnings_by_parameter: Mapping[float, Warnings],
    choosing: Outcomes,
    split: datetime,
    scoring: Outcomes,
    clock: WorkingClock,
) -> Evaluation:
    """Sweep every parameter on `choosing` (warnings up to `split` only), keep the best F1, score it on
    `scoring` (every warning of the later part)."""
    parameters = sorted(warnings_by_parameter)
    in_sample = [score(method, value, warnings_by_parameter[value], choosing, clock, split) for value in parameters]
    chosen = choose(in_sample)
    later = score(method, chosen.parameter, warnings_by_parameter[chosen.parameter], scoring, clock)
    return Evaluation(in_sample, chosen, later)

"""Risk that an open dossier ends late: Kaplan-Meier survival of the dossier clock (pure).

The duration of a dossier is the working time its clock ran (pauses excluded) as a FRACTION of the
working time it was allotted (acceptance -> original due date), so procedures with different time limits
share one scale: a dossier is late when its fraction exceeds 1. Finished dossiers are observed durations
(events); open dossiers are right-censored at the fraction used so far (they will last at least that long).

For an open dossier that has used fraction `f`, the risk is

    P(late | still open at f) = P(T > 1 | T > f) = S(1) / S(f)

with S the Kaplan-Meier estimate of P(T > t). The curve is estimated for the dossier's procedure when
that procedure has at least `min_samples` finished dossiers and a non-empty risk set at `f`; otherwise
for its handling agency; otherwise for every dossier (`Basis`).

Kaplan-Meier is written here (it is a dozen lines) rather than taken from a statistics library: the
service needs only the product-limit estimate and a lookup, and domain code stays stdlib-only.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

LATE_AFTER = 1.0  # a dossier is late when it used more than its whole allotted time


class Basis(StrEnum):
    """Which finished dossiers the survival curve was learned from."""

    PROCEDURE = "procedure"
    AGENCY = "agency"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class SurvivalCurve:
    """Product-limit estimate: `survival[i]` is S(t) for `times[i] <= t < times[i + 1]` (S = 1 before)."""

    times: tuple[float, ...]
    survival: tuple[float, ...]
    events: int
    censored: int

    def at(self, t: float) -> float:
        """S(t) = P(T > t); right-continuous, so an event exactly at `t` is counted as done by `t`."""
        index = bisect.bisect_right(self.times, t)
        return 1.0 if index == 0 else self.survival[index - 1]

    def conditional(self, beyond: float, given: float) -> float | None:
        """P(T > beyond | T > given), or None when no observation lasted beyond `given` (S(given) = 0)."""
        if beyond <= given:
            return 1.0
        base = self.at(given)
        if base <= 0.0:
            return None
        return min(1.0, max(0.0, self.at(beyond) / base))


def kaplan_meier(samples: Iterable[tuple[float, bool]]) -> SurvivalCurve:
    """Survival curve of `(duration, ended)` samples; `ended=False` is a right-censored duration.

    At a time with both events and censorings, the censored samples count as still at risk (the usual
    convention: a censoring at t means the dossier lasted at least t).
    """
    events_at: dict[float, int] = defaultdict(int)
    leaving_at: dict[float, int] = defaultdict(int)
    total = events = 0
    for duration, ended in samples:
        total += 1
        leaving_at[duration] += 1
        if ended:
            events_at[duration] += 1
            events += 1
    at_risk = total
    survival = 1.0
    times: list[float] = []
    values: list[float] = []
    for time in sorted(leaving_at):
        deaths = events_at.get(time, 0)
        if deaths:
            survival *= 1.0 - deaths / at_risk
            times.append(time)
            values.append(survival)
        at_risk -= leaving_at[time]
    return SurvivalCurve(tuple(times), tuple(values), events, total - events)


@dataclass(frozen=True, slots=True)
class Observation:
    """One dossier's clock as a fraction of its allotted working time; `ended=False` when still open."""

    procedure_code: str
    agency: str
    fraction: float
    ended: bool


@dataclass(frozen=True, slots=True)
class RiskEstimate:
    probability: float
    basis: Basis
    sample_size: int  # finished dossiers the curve was learned from
    censored: int  # open dossiers in the same group (censored samples)


class RiskModel:
    """Survival curves per procedure, per agency and overall, with the fallback rule of the module doc."""

    def __init__(self, observations: Iterable[Observation], min_samples: int = 30) -> None:
        if min_samples < 1:
            raise ValueError("min_samples must be at least 1")
        self.min_samples = min_samples
        by_procedure: dict[str, list[tuple[float, bool]]] = defaultdict(list)
        by_agency: dict[str, list[tuple[float, bool]]] = defaultdict(list)
        everything: list[tuple[float, bool]] = []
        for item in observations:
            sample = (item.fraction, item.ended)
            by_procedure[item.procedure_code].append(sample)
            by_agency[item.agency].append(sample)
            everything.append(sample)
        self.procedures = {code: kaplan_meier(samples) for code, samples in by_procedure.items()}
        self.agencies = {code: kaplan_meier(samples) for code, samples in by_agency.items()}
        self.overall = kaplan_meier(everything)

    def estimate(self, procedure_code: str, agency: str, fraction: float) -> RiskEstimate | None:
        """P(late | open at `fraction`) from the most specific curve with enough finished dossiers.

        None when even the overall curve has fewer than `min_samples` finished dossiers or none that
        lasted beyond `fraction`.
        """
        levels = (
            (Basis.PROCEDURE, self.procedures.get(procedure_code)),
            (Basis.AGENCY, self.agencies.get(agency)),
            (Basis.ALL, self.overall),
        )
        for basis, curve in levels:
            if curve is None or curve.events < self.min_samples:
                continue
            probability = curve.conditional(LATE_AFTER, fraction)
            if probability is not None:
                return RiskEstimate(probability, basis, curve.events, curve.censored)
        return None

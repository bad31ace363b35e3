"""Kaplan-Meier on hand-computable data, censoring, the conditional risk and the fallback rule."""

from __future__ import annotations

import pytest

from services.indicators.domain.risk import Basis, Observation, RiskModel, kaplan_meier

# durations (ended=True) and censorings (ended=False); by hand:
# t=1: 6 at risk, 1 ends -> S = 5/6; t=2 censored; t=3: 4 at risk, 2 end -> S = 5/6 * 2/4 = 5/12;
# t=4 censored; t=5: 1 at risk, 1 ends -> S = 0
SAMPLES = [(1.0, True), (2.0, False), (3.0, True), (3.0, True), (4.0, False), (5.0, True)]


@pytest.mark.parametrize(
    ("t", "expected"),
    [(0.5, 1.0), (1.0, 5 / 6), (2.0, 5 / 6), (2.99, 5 / 6), (3.0, 5 / 12), (4.5, 5 / 12), (5.0, 0.0), (9.0, 0.0)],
)
def test_survival_matches_hand_computation_when_some_samples_are_censored(t: float, expected: float) -> None:
    assert kaplan_meier(SAMPLES).at(t) == pytest.approx(expected)


def test_censored_samples_stay_at_risk_when_tied_with_an_event() -> None:
    curve = kaplan_meier([(1.0, True), (1.0, False), (2.0, True)])
    assert (curve.at(1.0), curve.at(2.0)) == (pytest.approx(2 / 3), 0.0)


def test_survival_counts_events_and_censorings_when_built() -> None:
    curve = kaplan_meier(SAMPLES)
    assert (curve.events, curve.censored, curve.times) == (4, 2, (1.0, 3.0, 5.0))


def test_survival_stays_at_one_when_every_sample_is_censored() -> None:
    curve = kaplan_meier([(0.4, False), (0.9, False)])
    assert (curve.at(10.0), curve.events) == (1.0, 0)


def test_conditional_risk_is_the_ratio_of_survivals_when_the_risk_set_is_not_empty() -> None:
    curve = kaplan_meier(SAMPLES)
    assert curve.conditional(3.0, 1.0) == pytest.approx((5 / 12) / (5 / 6))
    assert curve.conditional(3.0, 3.5) == 1.0  # already beyond
    assert curve.conditional(9.0, 5.0) is None  # nobody lasted beyond 5


def _observations(procedure: str, agency: str, fractions: list[float], ended: bool = True) -> list[Observation]:
    return [Observation(procedure, agency, fraction, ended) for fraction in fractions]


def test_risk_uses_the_procedure_curve_when_it_has_enough_finished_dossiers() -> None:
    # P1: 4 finished at 0.2, 0.5, 1.5 (late), 2.0 (late); P(T > 1 | T > 0.4) = (2/4) / (3/4) = 2/3
    model = RiskModel(_observations("P1", "A", [0.2, 0.5, 1.5, 2.0]), min_samples=4)
    estimate = model.estimate("P1", "A", 0.4)
    assert estimate is not None
    assert (estimate.probability, estimate.basis, estimate.sample_size) == (pytest.approx(2 / 3), Basis.PROCEDURE, 4)


def test_risk_falls_back_to_the_agency_when_the_procedure_has_too_few_finished_dossiers() -> None:
    observations = [
        *_observations("P1", "A", [0.9, 1.2]),
        *_observations("P2", "A", [0.3, 0.6]),
        *_observations("P3", "B", [1.5, 1.6, 1.7, 1.8]),
    ]
    model = RiskModel(observations, min_samples=3)
    estimate = model.estimate("P1", "A", 0.5)
    # agency A: 0.3, 0.6, 0.9, 1.2 -> S(0.5) = 3/4, S(1) = 1/4 -> 1/3
    assert estimate is not None
    assert (estimate.probability, estimate.basis, estimate.sample_size) == (pytest.approx(1 / 3), Basis.AGENCY, 4)


def test_risk_falls_back_to_all_dossiers_when_procedure_and_agency_have_too_few() -> None:
    observations = [*_observations("P1", "A", [0.5, 1.5]), *_observations("P2", "B", [0.5, 1.5])]
    model = RiskModel(observations, min_samples=3)
    estimate = model.estimate("P1", "A", 0.0)
    assert estimate is not None
    assert (estimate.probability, estimate.basis, estimate.sample_size) == (0.5, Basis.ALL, 4)


def test_open_overdue_dossiers_raise_the_risk_when_counted_as_censored() -> None:
    finished = _observations("P1", "A", [0.3, 0.5, 1.5, 1.5])
    without = RiskModel(finished, min_samples=4).estimate("P1", "A", 0.4)
    overdue_open = _observations("P1", "A", [1.2, 1.2], ended=False)
    with_open = RiskModel([*finished, *overdue_open], min_samples=4).estimate("P1", "A", 0.4)
    assert without is not None
    assert with_open is not None
    # without: S(0.4) = 3/4, S(1) = 2/4 -> 2/3; with: S(0.4) = 5/6, S(1) = 5/6 * 4/5 = 4/6 -> 4/5
    assert (without.probability, with_open.probability) == (pytest.approx(2 / 3), pytest.approx(4 / 5))
    assert (with_open.sample_size, with_open.censored) == (4, 2)


def test_censoring_lowers_the_late_share_when_open_dossiers_outlast_on_time_ones() -> None:
    # finished: on time at 0.9 twice, late at 1.2 twice; an open dossier at 0.95 is censored
    finished = _observations("P1", "A", [0.9, 0.9, 1.2, 1.2])
    model = RiskModel([*finished, Observation("P1", "A", 0.95, False)], min_samples=4)
    estimate = model.estimate("P1", "A", 0.5)
    # t=0.9: 5 at risk, 2 end -> S = 3/5; censored at 0.95; t=1.2: 2 at risk, 2 end -> S = 0; S(1) = 3/5
    assert estimate is not None
    assert estimate.probability == pytest.approx(3 / 5)


def test_risk_is_unknown_when_no_group_has_enough_finished_dossiers() -> None:
    model = RiskModel(_observations("P1", "A", [0.5, 1.5]), min_samples=3)
    assert model.estimate("P1", "A", 0.2) is None


def test_risk_falls_back_when_nobody_in_the_procedure_lasted_that_long() -> None:
    observations = [*_observations("P1", "A", [0.1, 0.2, 0.3]), *_observations("P2", "A", [0.5, 1.5, 2.0])]
    estimate = RiskModel(observations, min_samples=3).estimate("P1", "A", 0.4)
    # procedure P1: S(0.4) = 0 -> agency A: S(0.4) = 3/6, S(1) = 2/6 -> 2/3
    assert estimate is not None
    assert (estimate.basis, estimate.probability) == (Basis.AGENCY, pytest.approx(2 / 3))


def test_risk_is_certain_when_the_allotted_time_is_used_up() -> None:
    estimate = RiskModel(_observations("P1", "A", [0.2, 0.4, 0.6]), min_samples=3).estimate("P1", "A", 1.3)
    assert estimate is not None
    assert estimate.probability == 1.0

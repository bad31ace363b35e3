"""Dossier clocks become survival samples and alerts (pure rules, real 2026 working time)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.contracts.alerts import DossierAlertKind
from services.indicators.domain.calendar import WorkingCalendar, build_calendar
from services.indicators.domain.dossier import DossierState, fold
from services.indicators.domain.risk import Basis, Observation, RiskModel
from services.indicators.domain.warning import (
    KIND_LABELS,
    AtRiskCriterion,
    WarningMethod,
    assess,
    clock_fraction,
    decide,
    observation,
)
from tests.indicators.dossier_helpers import event

VN = timezone(timedelta(hours=7))
# Mon 2 March 2026 07:30 -> due Wed 4 March 17:00: three working days (22.5 working hours)
ACCEPTED_AT = "2026-03-02T07:30:00+07:00"
DUE_AT = "2026-03-04T17:00:00+07:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN)


CALENDAR = build_calendar()
MODEL_07 = AtRiskCriterion(WarningMethod.MODEL, threshold=0.7)


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return CALENDAR


def dossier(code: str, *later: tuple[str, str], procedure: str = "1.001193") -> DossierState:
    accepted = event("dossier.accepted", ACCEPTED_AT, code, due_at=DUE_AT, procedure_code=procedure)
    state = fold([accepted, *(event(kind, time, code, procedure_code=procedure) for kind, time in later)], CALENDAR)
    assert state is not None
    return state


def test_fraction_is_working_time_used_over_allotted_when_open(calendar: WorkingCalendar) -> None:
    state = dossier("D-1")
    # Tuesday 11:30 -> Monday 7.5 h + Tuesday 4 h = 11.5 of 22.5 working hours
    assert clock_fraction(state, at("2026-03-03T11:30:00"), calendar) == pytest.approx(11.5 / 22.5)


def test_open_dossier_is_censored_when_observed(calendar: WorkingCalendar) -> None:
    item = observation(dossier("D-1"), at("2026-03-03T11:30:00"), calendar)
    assert item == Observation("1.001193", "UBND-LAMTHAO", pytest.approx(11.5 / 22.5), ended=False)


def test_late_dossier_is_an_event_beyond_one_when_processed_after_due(calendar: WorkingCalendar) -> None:
    state = dossier("D-2", ("dossier.processed", "2026-03-05T09:30:00+07:00"))
    item = observation(state, at("2026-03-09T08:00:00"), calendar)
    assert item is not None
    assert (item.ended, item.fraction) == (True, pytest.approx(24.5 / 22.5))


def test_second_supplement_lateness_is_not_a_time_event_when_processed_before_due(calendar: WorkingCalendar) -> None:
    state = dossier(
        "D-3",
        ("dossier.supplement_requested", "2026-03-02T08:30:00+07:00"),
        ("dossier.supplement_received", "2026-03-02T09:30:00+07:00"),
        ("dossier.supplement_requested", "2026-03-02T10:30:00+07:00"),
        ("dossier.supplement_received", "2026-03-02T11:00:00+07:00"),
        ("dossier.processed", "2026-03-03T08:00:00+07:00"),
    )
    item = observation(state, at("2026-03-09T08:00:00"), calendar)
    assert state.on_time is False  # late by the rule (design §4) ...
    assert item is not None
    # ... but the clock model learns the time it really used: 8 working hours minus 1.5 h paused
    assert (item.ended, item.fraction) == (True, pytest.approx(6.5 / 22.5))


def test_dossier_is_unknown_to_the_model_when_accepted_after_the_instant(calendar: WorkingCalendar) -> None:
    assert observation(dossier("D-1"), at("2026-03-01T09:00:00"), calendar) is None


def model_where_half_end_late() -> RiskModel:
    # ten finished dossiers of the procedure: five at 0.3 (on time), five at 1.4 (late)
    finished = [Observation("1.001193", "UBND-LAMTHAO", fraction, True) for fraction in [0.3] * 5 + [1.4] * 5]
    return RiskModel(finished, min_samples=5)


def test_risk_is_one_when_the_dossier_is_overdue(calendar: WorkingCalendar) -> None:
    estimate = assess(dossier("D-1"), at("2026-03-05T08:00:00"), model_where_half_end_late(), calendar)
    assert estimate is not None
    assert (estimate.probability, estimate.basis) == (1.0, Basis.PROCEDURE)


def test_alerts_are_raised_when_a_dossier_is_at_risk_or_overdue(calendar: WorkingCalendar) -> None:
    states = [dossier("D-RISK"), dossier("D-LATE", procedure="2.000001")]
    late_state = states[1]
    late_state.due_at = late_state.extended_due_at = late_state.overdue_from = at("2026-03-03T08:00:00")
    decision = decide(states, at("2026-03-03T09:00:00"), model_where_half_end_late(), calendar, MODEL_07, set())
    kinds = {
        alert.alert_id: (alert.kind, None if alert.risk is None else alert.risk.probability)
        for alert in decision.alerts
    }
    # D-RISK at fraction ~0.38: past every on-time ending, so P(late) = 5/5
    assert kinds == {
        "at_risk:D-RISK": (DossierAlertKind.AT_RISK, 1.0),
        "overdue:D-LATE": (DossierAlertKind.OVERDUE, None),
    }
    assert decision.at_risk_by_agency == {"UBND-LAMTHAO": 1}
    # the field comes from the procedure; one with open dossiers but none at risk counts 0
    assert decision.at_risk_by_procedure == {("UBND-LAMTHAO", "1.001193"): 1, ("UBND-LAMTHAO", "2.000001"): 0}


def test_alert_is_not_raised_again_when_its_id_was_raised_before(calendar: WorkingCalendar) -> None:
    decision = decide(
        [dossier("D-RISK")],
        at("2026-03-03T09:00:00"),
        model_where_half_end_late(),
        calendar,
        MODEL_07,
        {"at_risk:D-RISK"},
    )
    assert (decision.alerts, decision.at_risk_by_agency) == ([], {"UBND-LAMTHAO": 1})


def test_no_alert_when_the_risk_is_below_the_threshold(calendar: WorkingCalendar) -> None:
    decision = decide(
        [dossier("D-1")], at("2026-03-02T08:00:00"), model_where_half_end_late(), calendar, MODEL_07, set()
    )
    # fraction 0.02: before the on-time endings, P(late) = 5/10
    assert (decision.alerts, decision.at_risk_by_agency) == ([], {"UBND-LAMTHAO": 0})


def test_alert_message_carries_the_contract_fields_when_built(calendar: WorkingCalendar) -> None:
    decision = decide(
        [dossier("D-RISK")], at("2026-03-03T09:00:00"), model_where_half_end_late(), calendar, MODEL_07, set()
    )
    message = decision.alerts[0].message()
    assert (message.alert_id, message.kind, message.due_at, message.risk) == (
        "at_risk:D-RISK",
        DossierAlertKind.AT_RISK,
        at("2026-03-04T17:00:00"),
        1.0,
    )
    assert KIND_LABELS[message.kind] == "Hồ sơ có nguy cơ quá hạn"


def test_rule_alerts_without_a_probability_when_the_clock_used_the_cut(calendar: WorkingCalendar) -> None:
    rule = AtRiskCriterion(WarningMethod.RULE, rule_cut=0.5)
    # Tuesday 11:30: 11.5 of 22.5 working hours used (0.51); Tuesday 09:00: 9 of 22.5 (0.40)
    decision = decide([dossier("D-RULE")], at("2026-03-03T11:30:00"), RiskModel([], 30), calendar, rule, set())
    assert [(alert.alert_id, alert.risk) for alert in decision.alerts] == [("at_risk:D-RULE", None)]
    early = decide([dossier("D-RULE")], at("2026-03-03T09:00:00"), RiskModel([], 30), calendar, rule, set())
    assert (early.alerts, early.at_risk_by_agency) == ([], {"UBND-LAMTHAO": 0})


def test_service_defaults_to_the_rule_when_the_tuned_rule_won_the_backtest() -> None:
    from services.indicators.settings import Settings

    settings = Settings()
    assert (settings.warning_method, settings.warning_rule_cut, settings.warning_threshold) == ("rule", 0.95, 0.85)

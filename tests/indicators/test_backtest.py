"""The backtest: hand-checkable replays, and a small synthetic commune history through the CLI."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from services.contracts.events import parse_event
from services.indicators.cli import app
from services.indicators.domain.calendar import WorkingCalendar, build_calendar
from services.indicators.domain.dossier import DossierEvent
from services.indicators.domain.events import to_projected
from services.indicators.domain.warning_backtest import BacktestSettings, backtest
from tests.factories import dossier_event

VN = timezone(timedelta(hours=7))
CALENDAR = build_calendar()


def projected(raw: dict[str, Any]) -> DossierEvent:
    item = to_projected(parse_event(raw))
    assert isinstance(item, DossierEvent)
    return item


def two_dossiers() -> list[DossierEvent]:
    """Both accepted Monday 08:00, due Monday 17:00 (7 working hours): A ends Tuesday (late), B at 10:00."""
    events = []
    for code, processed in (("HS-A", "2026-03-03T09:00:00+07:00"), ("HS-B", "2026-03-02T10:00:00+07:00")):
        events.append(
            dossier_event(
                "dossier.accepted", code, time="2026-03-02T08:00:00+07:00", due_at="2026-03-02T17:00:00+07:00"
            )
        )
        events.append(dossier_event("dossier.processed", code, time=processed))
    return [projected(event) for event in events]


HOURLY = BacktestSettings(step_seconds=3600, min_samples=1, refit_seconds=0, warmup_days=0, thresholds=(0.7,))


def test_rule_warns_at_the_first_sweep_past_80_percent_when_replayed_hourly() -> None:
    result = backtest(two_dossiers(), CALENDAR, HOURLY)
    rule = result.rule
    # 16:00 is the first hourly instant past 80% (6 of 7 working hours): one working hour before 17:00
    assert (result.scored, result.late) == (2, 1)
    assert (rule.true_positives, rule.false_positives, rule.false_negatives, rule.median_lead_hours) == (1, 0, 0, 1.0)
    assert (rule.precision, rule.recall, rule.f1) == (1.0, 1.0, 1.0)


def test_model_warns_once_it_learned_that_short_dossiers_end_early_when_replayed_hourly() -> None:
    model = backtest(two_dossiers(), CALENDAR, HOURLY).model
    # at 10:00 B ends after 2 of 7 hours and A (censored at 2/7, still at risk) has outlived every ended
    # dossier: P(late) = S(1) / S(2/7) = (1/2) / (1/2) = 1, five working hours before 17:00
    assert (model.true_positives, model.false_positives, model.median_lead_hours) == (1, 0, 5.0)


def test_dossiers_of_the_warm_up_are_not_scored_when_the_history_is_shorter() -> None:
    result = backtest(two_dossiers(), CALENDAR, BacktestSettings(step_seconds=3600, warmup_days=1))
    assert (result.scored, result.rule.f1) == (0, 0.0)


def test_backtest_refuses_an_empty_history() -> None:
    with pytest.raises(ValueError, match="no dossier event"):
        backtest([], CALENDAR, HOURLY)


# (procedure, agency, working days allowed, on-time share of the allotted time used, late share)
SYNTHETIC_PROCEDURES = (
    ("1.000001", "UBND-LAMTHAO", 2, (0.05, 0.45), 0.15),  # quick, or stuck
    ("1.000002", "UBND-LAMTHAO", 5, (0.75, 1.0), 0.05),  # handled near the deadline, rarely late
    ("2.000001", "PHONG-KT", 3, (0.1, 0.7), 0.10),
)


def synthetic_history(
    calendar: WorkingCalendar, first_day: date, working_days: int, per_day: int, seed: int
) -> list[dict[str, Any]]:
    """A commune whose procedures behave differently: the case the per-procedure model is for."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    day, done = first_day, 0
    while done < working_days:
        if calendar.is_working_day(day):
            opening = datetime(day.year, day.month, day.day, 7, 30, tzinfo=VN)
            for number in range(per_day):
                procedure, agency, days, on_time, late_share = rng.choice(SYNTHETIC_PROCEDURES)
                accepted = calendar.add_working_time(opening, rng.uniform(0, 0.9 * calendar.day_seconds))
                allotted = days * calendar.day_seconds
                due = calendar.add_working_time(accepted, allotted)
                used = rng.uniform(1.05, 1.6) if rng.random() < late_share else rng.uniform(*on_time)
                processed = calendar.add_working_time(accepted, used * allotted)
                code = f"HS-{day:%y%m%d}-{number:03d}"
                common = {"procedure_code": procedure, "agency": agency}
                events.append(dossier_event("dossier.accepted", code, time=accepted, due_at=due.isoformat(), **common))
                events.append(dossier_event("dossier.processed", code, time=processed, **common))
            done += 1
        day += timedelta(days=1)
    return events


def test_cli_reports_the_model_beating_the_rule_when_procedures_behave_differently(tmp_path: Path) -> None:
    history = tmp_path / "history.ndjson"
    lines = [
        json.dumps(event, ensure_ascii=False) for event in synthetic_history(CALENDAR, date(2026, 3, 2), 60, 10, 7)
    ]
    history.write_text("\n".join([*lines, "{not json"]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["backtest", str(history), "--step-minutes", "30", "--warmup-days", "14"])
    assert result.exit_code == 0, result.output
    assert "History: 1201 lines, 1 invalid skipped, 1200 dossier events" in result.output
    assert "Verdict: the model beats the rule on F1 by" in result.output


def test_model_beats_the_rule_on_f1_and_lead_time_when_procedures_behave_differently() -> None:
    events = [projected(event) for event in synthetic_history(CALENDAR, date(2026, 3, 2), 60, 10, 7)]
    result = backtest(events, CALENDAR, BacktestSettings(step_seconds=1800, warmup_days=14))
    model, rule = result.model, result.rule
    assert model.f1 > rule.f1
    assert model.precision is not None
    assert rule.precision is not None
    assert model.precision > rule.precision
    assert model.median_lead_hours is not None
    assert rule.median_lead_hours is not None
    assert model.median_lead_hours > rule.median_lead_hours

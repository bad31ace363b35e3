"""`dvc-pulse indicators backtest FILE`: replay an NDJSON history of CloudEvents and compare the early
warning model with the naive rule "warn when 80% of the allotted time is used"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import typer
from pydantic import ValidationError

from services.contracts.events import parse_event
from services.indicators.domain.dossier import DossierEvent
from services.indicators.domain.events import to_projected
from services.indicators.domain.warning_backtest import BacktestResult, BacktestSettings, Score


@dataclass
class LoadedHistory:
    events: list[DossierEvent]
    lines: int = 0
    invalid: int = 0


def load_history(path: Path) -> LoadedHistory:
    """Dossier events of an NDJSON file; other event types are ignored, invalid lines counted and skipped."""
    history = LoadedHistory([])
    with path.open("rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            history.lines += 1
            try:
                projected = to_projected(parse_event(line))
            except (ValidationError, ValueError):
                history.invalid += 1
                continue
            if isinstance(projected, DossierEvent):
                history.events.append(projected)
    return history


def _ratio(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.3f}"


def _row(score: Score) -> str:
    lead = "n/a" if score.median_lead_hours is None else f"{score.median_lead_hours:.1f}"
    return (
        f"{score.name:<34} {score.warned:>7} {score.true_positives:>6} {score.false_positives:>6} "
        f"{score.false_negatives:>6} {_ratio(score.precision):>9} {_ratio(score.recall):>7} {score.f1:6.3f} {lead:>9}"
    )


def report_lines(result: BacktestResult, history: LoadedHistory, settings: BacktestSettings) -> Iterator[str]:
    yield (
        f"History: {history.lines} lines, {history.invalid} invalid skipped, {result.events} dossier events, "
        f"{result.start:%Y-%m-%d} to {result.end:%Y-%m-%d}; {result.instants} sweep instants "
        f"(every {settings.step_seconds / 60:g} min of event time, "
        f"model refitted every {settings.refit_seconds / 3600:g} h)"
    )
    yield (
        f"Scored: {result.scored} dossiers accepted after a {settings.warmup_days:g}-day warm-up with a known outcome, "
        f"{result.late} of them late"
    )
    header = (
        f"{'method':<34} {'warned':>7} {'TP':>6} {'FP':>6} {'FN':>6} {'precision':>9} {'recall':>7} {'F1':>6} "
        f"{'lead (h)':>9}"
    )
    yield ""
    yield header
    yield _row(result.model)
    yield _row(result.rule)
    yield ""
    yield "Model at other thresholds (median lead: working hours from the warning to the due date):"
    yield header
    yield from (_row(score) for score in result.by_threshold)
    yield ""
    difference = result.model.f1 - result.rule.f1
    if difference > 0:
        yield (
            f"Verdict: the model beats the rule on F1 by {difference:.3f} "
            f"({result.model.f1:.3f} vs {result.rule.f1:.3f})."
        )
    else:
        yield (
            f"Verdict: the model does NOT beat the rule on F1: {result.model.f1:.3f} vs {result.rule.f1:.3f} "
            f"({-difference:.3f} lower); see docs/indicators.md, 'Early warning', for why."
        )
    best = max(result.by_threshold, key=lambda score: score.f1)
    yield f"Best F1 among the thresholds tried: {best.name}, F1 {best.f1:.3f}."


def backtest_command(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="NDJSON of CloudEvents (dvc-pulse simulate --out)"
    ),
    step_minutes: float = typer.Option(15.0, min=0.1, help="Sweep every this many minutes of event time"),
    threshold: float = typer.Option(None, min=0.01, max=1.0, help="Warning threshold (default: the service's)"),
    rule_fraction: float = typer.Option(0.8, min=0.01, max=1.0, help="The naive rule's share of allotted time"),
    min_samples: int = typer.Option(None, min=1, help="Finished dossiers a curve needs (default: the service's)"),
    warmup_days: float = typer.Option(30.0, min=0, help="Dossiers accepted in the first days train but are not scored"),
    refit_hours: float = typer.Option(24.0, min=0, help="Refit the model every this many hours of event time"),
) -> None:
    """Replay a history in time order and compare the early-warning model with the 80% rule."""
    from services.indicators.adapters.calendar_file import load_overrides
    from services.indicators.domain.calendar import build_calendar
    from services.indicators.domain.warning_backtest import backtest
    from services.indicators.settings import Settings

    service = Settings()
    calendar = build_calendar(
        service.timezone, service.working_hours, load_overrides(service.calendar_overrides), service.calendar_country
    )
    settings = BacktestSettings(
        step_seconds=step_minutes * 60,
        threshold=service.warning_threshold if threshold is None else threshold,
        rule_fraction=rule_fraction,
        min_samples=service.warning_min_samples if min_samples is None else min_samples,
        training_days=service.warning_training_days,
        refit_seconds=refit_hours * 3600,
        warmup_days=warmup_days,
    )
    history = load_history(file)
    if not history.events:
        typer.echo(f"{file}: no dossier event to replay ({history.invalid} invalid lines)", err=True)
        raise typer.Exit(2)
    result = backtest(history.events, calendar, settings)
    for line in report_lines(result, history, settings):
        typer.echo(line)

"""`dvc-pulse indicators backtest FILE`: replay an NDJSON history of CloudEvents and evaluate the early
warning model against the fixed rule "warn when a share of the allotted time is used", both tuned on the
earlier part of the history and scored on the later part (docs/indicators.md, "Early warning")."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import typer
from pydantic import ValidationError

from services.contracts.events import parse_event
from services.indicators.domain.dossier import DossierEvent
from services.indicators.domain.events import to_projected
from services.indicators.domain.warning_backtest import BacktestResult, BacktestSettings
from services.indicators.domain.warning_scoring import Score


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


HEADER = (
    f"{'method':<26} {'warned':>7} {'TP':>6} {'FP':>6} {'FN':>6} {'precision':>9} {'recall':>7} {'F1':>6} "
    f"{'lead (h)':>9} {'alerts/100':>10}"
)


def _row(score: Score) -> str:
    lead = "n/a" if score.median_lead_hours is None else f"{score.median_lead_hours:.1f}"
    return (
        f"{score.name:<26} {score.warned:>7} {score.true_positives:>6} {score.false_positives:>6} "
        f"{score.false_negatives:>6} {_ratio(score.precision):>9} {_ratio(score.recall):>7} {score.f1:6.3f} "
        f"{lead:>9} {score.alerts_per_100:>10.1f}"
    )


def _verdict(result: BacktestResult) -> str:
    rule, model = result.rule.out_of_sample, result.model.out_of_sample
    if model.f1 > rule.f1:
        return (
            f"Verdict (out of sample): the model beats the tuned rule on F1 by {model.f1 - rule.f1:.3f} "
            f"({model.f1:.3f} vs {rule.f1:.3f})."
        )
    return (
        f"Verdict (out of sample): the model does NOT beat the tuned rule on F1: {model.f1:.3f} vs {rule.f1:.3f} "
        f"({rule.f1 - model.f1:.3f} lower)."
    )


def report_lines(result: BacktestResult, history: LoadedHistory, settings: BacktestSettings) -> Iterator[str]:
    yield (
        f"History: {history.lines} lines, {history.invalid} invalid skipped, {result.events} dossier events, "
        f"{result.start:%Y-%m-%d} to {result.end:%Y-%m-%d}; {result.instants} sweep instants "
        f"(every {settings.step_seconds / 60:g} min of event time, "
        f"model refitted every {settings.refit_seconds / 3600:g} h)"
    )
    yield (
        f"Choosing part: accepted {result.scored_from:%Y-%m-%d %H:%M} to {result.split:%Y-%m-%d %H:%M} "
        f"(after a {settings.warmup_days:g}-day warm-up), {result.choosing} with an outcome known at the split, "
        f"{result.choosing_late} late"
    )
    yield (
        f"Scored part: accepted {result.split:%Y-%m-%d %H:%M} to {result.end:%Y-%m-%d}, {result.scoring} with an "
        f"outcome known at the end, {result.scoring_late} late"
    )
    yield ""
    yield (
        f"Out of sample (scored part; rule cut {result.rule.chosen.parameter:.0%} and model threshold "
        f"{result.model.chosen.parameter:.2f}, both chosen by F1 on the choosing part):"
    )
    yield HEADER
    yield _row(result.rule.out_of_sample)
    yield _row(result.model.out_of_sample)
    yield ""
    yield "In sample (choosing part; the sweeps the cut and the threshold were chosen from):"
    yield HEADER
    yield from (_row(score) for score in result.rule.in_sample)
    yield from (_row(score) for score in result.model.in_sample)
    yield ""
    yield _verdict(result)
    yield "Lead: median working hours from the warning to the instant the dossier became late."


def backtest_command(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="NDJSON of CloudEvents (dvc-pulse simulate --out)"
    ),
    step_minutes: float = typer.Option(15.0, min=0.1, help="Sweep every this many minutes of event time"),
    min_samples: int = typer.Option(None, min=1, help="Finished dossiers a curve needs (default: the service's)"),
    warmup_days: float = typer.Option(30.0, min=0, help="Dossiers accepted in the first days train but are not scored"),
    refit_hours: float = typer.Option(24.0, min=0, help="Refit the model every this many hours of event time"),
    choose_share: float = typer.Option(
        0.5, min=0.05, max=0.95, help="Share of the scored period that chooses the cut and threshold"
    ),
) -> None:
    """Replay a history in time order: choose the rule's cut and the model's threshold on the earlier part,
    score both on the later part."""
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
        min_samples=service.warning_min_samples if min_samples is None else min_samples,
        training_days=service.warning_training_days,
        refit_seconds=refit_hours * 3600,
        warmup_days=warmup_days,
        choose_share=choose_share,
    )
    history = load_history(file)
    if not history.events:
        typer.echo(f"{file}: no dossier event to replay ({history.invalid} invalid lines)", err=True)
        raise typer.Exit(2)
    result = backtest(history.events, calendar, settings)
    for line in report_lines(result, history, settings):
        typer.echo(line)

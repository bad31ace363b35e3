"""`dvc-pulse indicators ...` commands."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from services.indicators.entrypoints.backtest_cli import backtest_command
from services.runtime.nats.cli_url import nats_url_option

app = typer.Typer(help="Indicators service: projections of DVC_EVENTS.", no_args_is_help=True)
app.command("backtest")(backtest_command)  # early warning (indicators-B)
calendar_app = typer.Typer(help="The working-time calendar the indicators count with.", no_args_is_help=True)
TOP_LEVEL_GROUPS = {"calendar": calendar_app}  # `dvc-pulse calendar ...`

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


@calendar_app.command("show")
def calendar_show_command(
    year: int = typer.Argument(..., min=2000, max=2100, help="Calendar year, e.g. 2026"),
    overrides: Path = typer.Option(None, help="Override file (default: $DVC_INDICATORS_CALENDAR_OVERRIDES)"),
) -> None:
    """List the year's days off on weekdays and weekend days worked, with the name and source of each."""
    from services.indicators.adapters.calendar_file import CalendarFileError, load_overrides
    from services.indicators.domain.calendar import WorkingDays
    from services.indicators.settings import Settings

    settings = Settings()
    try:
        days = WorkingDays(load_overrides(overrides or settings.calendar_overrides), settings.calendar_country)
    except CalendarFileError as error:
        raise typer.BadParameter(str(error)) from error
    exceptions = days.year_exceptions(year)
    for entry in exceptions:
        kind = "làm việc" if entry.working else "nghỉ"
        typer.echo(
            f"{entry.day:%d/%m/%Y} {WEEKDAYS_VI[entry.day.weekday()]:<8} {kind:<8} {entry.name} [{entry.source}]"
        )
    off = sum(not entry.working for entry in exceptions)
    typer.echo(f"{year}: {off} weekdays off, {len(exceptions) - off} weekend days worked")


@app.command("rebuild")
def rebuild_command(
    batch_size: int = typer.Option(2000, min=1, max=5000, help="Events applied per transaction"),
    nats_url: str = nats_url_option(),
) -> None:
    """Replay DVC_EVENTS from the start into fresh tables and swap them in (the service may keep running)."""
    from services.indicators.entrypoints.rebuild_cli import rebuild
    from services.indicators.settings import Settings
    from services.runtime.gc_tuning import freeze_startup_objects
    from services.runtime.nats.cli_url import for_cli

    settings = for_cli(Settings(), nats_url)
    columns = (
        TextColumn("Replaying DVC_EVENTS"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns) as progress:
        task = progress.add_task("replay", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        freeze_startup_objects()  # a replay allocates millions of short-lived objects
        result = asyncio.run(rebuild(settings, batch_size=batch_size, progress=report))
    typer.echo(
        f"Rebuilt from {result.messages} messages: {result.applied} events applied, "
        f"{result.invalid} invalid skipped, {result.caught_up} caught up after the swap."
    )

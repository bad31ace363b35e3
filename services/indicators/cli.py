"""`dvc-pulse indicators ...` commands."""

from __future__ import annotations

import asyncio

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from services.indicators.warning.backtest_cli import backtest_command

app = typer.Typer(help="Indicators service: projections of DVC_EVENTS.", no_args_is_help=True)
app.command("backtest")(backtest_command)  # early warning (indicators-B)


@app.command("rebuild")
def rebuild_command(
    batch_size: int = typer.Option(2000, min=1, max=5000, help="Events applied per transaction"),
) -> None:
    """Replay DVC_EVENTS from the start into fresh tables and swap them in (the service may keep running)."""
    from services.indicators.rebuild import rebuild
    from services.indicators.settings import Settings
    from services.runtime.gc_tuning import freeze_startup_objects

    settings = Settings()
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

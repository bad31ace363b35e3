"""`dvc-pulse import FILE`: NDJSON or CSV straight into DVC_EVENTS, with a progress bar and a report."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nats
import typer
from nats.aio.client import Client
from nats.js.errors import NotFoundError
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from services.contracts.nats_users import INGEST
from services.contracts.streams import EVENTS
from services.ingest.adapters.checkpoint import CheckpointStore
from services.ingest.adapters.dvcqg_store import DossierStore
from services.ingest.adapters.dvcqg_tables import MappingFile
from services.ingest.adapters.publisher import JetStreamPublisher
from services.ingest.domain.records import Format, LineMapper, UnreadableFile, detect_format
from services.ingest.domain.time_rules import TimeRules
from services.ingest.service_layer.dvcqg_sync import PortalLines
from services.ingest.service_layer.importing import ImportAborted, Importer, ImportReport, ProgressCallback
from services.ingest.settings import Settings
from services.runtime.cli_options import deprecated_alias, preferred
from services.runtime.gc_tuning import freeze_startup_objects
from services.runtime.nats.cli_url import for_cli, nats_url_option

EXIT_REJECTED_LINES = 3
console = Console(stderr=True)


async def _quiet(*_args: object) -> None:
    return None


async def connect(servers: list[str], timeout: float, auth: Mapping[str, Any] | None = None) -> Client:
    """Connect (retrying) for at most `timeout` s; once connected, reconnect forever like the services. `auth`:
    the NATS user's connect options (`ServiceSettings.cli_nats_options`: the ingest user's permissions suffice)."""
    options = {"error_cb": _quiet, "disconnected_cb": _quiet, "reconnected_cb": _quiet, **(auth or {})}
    connecting = nats.connect(
        servers, name="dvc-import", connect_timeout=2, max_reconnect_attempts=-1, reconnect_time_wait=1, **options
    )
    return await asyncio.wait_for(connecting, timeout)


async def import_file(
    path: Path,
    servers: list[str],
    checkpoints: CheckpointStore,
    *,
    file_format: Format,
    batch_size: int = 500,
    restart: bool = False,
    on_progress: ProgressCallback | None = None,
    connect_timeout: float = 10.0,
    time_rules: TimeRules | None = None,
    auth: Mapping[str, Any] | None = None,
    portal_lines: LineMapper | None = None,
) -> ImportReport:
    try:
        client = await connect(servers, connect_timeout, auth)
    except TimeoutError:
        raise ImportAborted(f"cannot reach NATS at {', '.join(servers)} within {connect_timeout:.0f} s") from None
    try:
        try:
            await client.jetstream().stream_info(EVENTS.name)
        except NotFoundError:
            raise ImportAborted(f"stream {EVENTS.name} does not exist: run `dvc-pulse streams apply`") from None
        publisher = JetStreamPublisher(lambda: client, timeout=10.0)
        importer = Importer(
            publisher, checkpoints, batch_size, time_rules=time_rules or TimeRules(), portal_lines=portal_lines
        )
        if on_progress is not None:
            importer.on_progress = on_progress
        return await importer.run(path, file_format, restart=restart)
    finally:
        await client.close()


def print_report(report: ImportReport, show_errors: int) -> None:
    if report.file_changed:
        console.print("[yellow]The file changed since its checkpoint: imported from the first line.[/yellow]")
    if report.resumed_from_line:
        console.print(f"Resumed after line {report.resumed_from_line} (already imported by an earlier run).")
    console.print(
        f"{report.path}: {report.accepted} accepted, {report.duplicates} duplicate (already in {EVENTS.name}), "
        f"{report.rejected} rejected line(s)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for error in report.errors[:show_errors]:
        console.print(
            f"line {error.line}: {error.field}: {error.reason}", markup=False, highlight=False, soft_wrap=True
        )
    hidden = len(report.errors[show_errors:]) + report.errors_not_kept
    if hidden:
        console.print(f"... and {hidden} more error(s) (use --show-errors)")


def _portal_lines(settings: Settings, source: str | None, sms_consent: bool) -> PortalLines:
    return PortalLines(
        DossierStore(settings.dvcqg_state_path),
        MappingFile(settings.dvcqg_mapping_path),
        source or settings.dvcqg_default_source,
        sms_consent,
        settings.time_rules,
        settings.dvcqg_max_records,
    )


def _import_with_progress(
    file: Path, settings: Settings, fmt: Format, batch_size: int, restart: bool, portal_lines: PortalLines | None
) -> ImportReport:
    servers = settings.nats_servers
    checkpoints = CheckpointStore(settings.var_dir / "import-checkpoints")
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), DownloadColumn())
    with Progress(*columns, TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task("importing", total=file.stat().st_size)

        def on_progress(report: ImportReport) -> None:
            description = f"accepted {report.accepted}, duplicate {report.duplicates}, rejected {report.rejected}"
            progress.update(task, completed=report.bytes_done, description=description)

        return asyncio.run(
            import_file(
                file,
                servers,
                checkpoints,
                file_format=fmt,
                batch_size=batch_size,
                restart=restart,
                on_progress=on_progress,
                time_rules=settings.time_rules,
                auth=settings.cli_nats_options(servers, user=INGEST.name),
                portal_lines=portal_lines,
            )
        )


def import_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="NDJSON or CSV file"),
    nats_url: str = nats_url_option(),
    old_url: str = deprecated_alias("--url", "--nats-url"),
    file_format: str = typer.Option(
        "auto", "--format", help="ndjson, csv, dvcqg (national-portal payloads, one per line), or auto (by extension)"
    ),
    batch_size: int = typer.Option(500, min=1, max=5000, help="Events published (and checkpointed) together"),
    restart: bool = typer.Option(False, "--restart", help="Ignore the checkpoint and read from the first line"),
    show_errors: int = typer.Option(20, min=0, help="Rejected lines to print"),
    source: str = typer.Option(None, "--source", help="--format dvcqg: source of the events (default: the setting)"),
    sms_consent: bool = typer.Option(
        False, "--sms-consent", help="--format dvcqg: the centre collected the applicants' SMS consent"
    ),
) -> None:
    """Import CloudEvents (NDJSON, one per line), CSV rows or national-portal payloads into DVC_EVENTS, validated
    like the HTTP ingest.

    Resumable: a rerun skips the lines already acknowledged.

    Exit 0: every line is in. Exit 3: some lines were rejected (listed with their reasons). Exit 1: the import
    stopped (NATS unreachable, stream missing); rerun to resume."""
    settings = for_cli(Settings(), preferred(nats_url, old_url, "--url", "--nats-url"))
    fmt = detect_format(file, file_format)
    portal_lines = _portal_lines(settings, source, sms_consent) if fmt is Format.DVCQG else None
    freeze_startup_objects()
    try:
        report = _import_with_progress(file, settings, fmt, batch_size, restart, portal_lines)
    except (ImportAborted, UnreadableFile) as error:
        console.print(f"[red]Import stopped:[/red] {error}")
        raise typer.Exit(1) from None
    print_report(report, show_errors)
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED_LINES)

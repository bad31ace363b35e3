"""`dvc-pulse dlq list|redrive`: see and re-send the messages consumers gave up on (docs/operations.md,
"Dead letters"). Imports no service package."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import nats
import typer
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from services.runtime.nats.cli_url import for_cli, nats_url_option
from services.runtime.nats.dead_letters import (
    ERROR,
    DeadLetter,
    RedriveReport,
    count_dead_letters,
    read_dead_letter,
    read_dead_letters,
    redrive,
)
from services.runtime.personal_data import mask_payload, mask_text
from services.runtime.settings import ServiceSettings

app = typer.Typer(help="Dead letters (DVC_DLQ): list them, redrive them to their original subject.")
T = TypeVar("T")

NATS_URL = nats_url_option()
SERVICE = typer.Option(None, "--service", help="Only the dead letters of this service (dvc.dlq.<service>)")


def _run(nats_url: str | None, work: Callable[[JetStreamContext], Awaitable[T]]) -> T:
    settings = for_cli(ServiceSettings(), nats_url)
    servers = settings.nats_servers
    auth = settings.cli_nats_options(servers)  # the admin user: redrive publishes to any stream

    async def quiet(error: Exception) -> None:
        return None  # nats-py would print a traceback per attempt; the failure is reported once below

    async def run() -> T:
        # max_reconnect_attempts=0 would mean "retry forever" in nats-py: one retry, then NoServersError
        client = await nats.connect(
            servers, connect_timeout=5, max_reconnect_attempts=1, reconnect_time_wait=0.5, error_cb=quiet, **auth
        )
        try:
            return await work(client.jetstream())
        finally:
            await client.close()

    try:
        return asyncio.run(run())
    except (NatsError, OSError) as error:
        typer.echo(f"cannot reach NATS at {settings.nats_url}: {error}", err=True)
        raise typer.Exit(1) from None


def age(stored_at: datetime | None, now: datetime) -> str:
    if stored_at is None:
        return "?"
    seconds = max(0, int((now - stored_at).total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{rest // 60}m"
    return f"{rest // 60}m" if rest >= 60 else f"{rest}s"


def _table(letters: list[DeadLetter], now: datetime) -> list[str]:
    header = ("DLQ SEQ", "SERVICE", "CONSUMER", "ORIGINAL (stream #seq subject)", "AGE", "ERROR")
    rows = [
        (
            str(letter.sequence),
            letter.service,
            letter.consumer,
            f"{letter.original_stream} #{letter.original_sequence} {letter.original_subject}",
            age(letter.stored_at, now),
            mask_text(letter.error_summary()),
        )
        for letter in letters
    ]
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header) - 1)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]) for row in (header, *rows)
    ]


def _show_payload(letter: DeadLetter, show_personal_data: bool) -> None:
    if show_personal_data:
        typer.echo(f"DLQ #{letter.sequence} (service {letter.service}); it holds personal data, do not paste it.")
    else:
        typer.echo(f"DLQ #{letter.sequence} (service {letter.service}); names and phones masked.")
    for name, value in letter.headers.items():
        if not show_personal_data:
            value = mask_text(letter.error_summary(width=len(value) + 64) if name == ERROR else value)
        typer.echo(f"{name}: {value}")
    typer.echo("")
    sys.stdout.buffer.write((letter.payload if show_personal_data else mask_payload(letter.payload)) + b"\n")
    sys.stdout.flush()


@app.command("list")
def list_command(
    service: str = SERVICE,
    limit: int = typer.Option(50, "--limit", min=1, help="Show at most N (oldest first)"),
    show_payload: bool = typer.Option(False, "--show-payload", help="Print the headers and payload of --seq"),
    seq: int = typer.Option(0, "--seq", min=0, help="The DLQ sequence whose payload --show-payload prints"),
    show_personal_data: bool = typer.Option(
        False, "--show-personal-data", help="With --show-payload: names and phones as stored (masked by default)"
    ),
    nats_url: str = NATS_URL,
) -> None:
    """A table of dead letters (never their payloads; names and phones in the errors masked)."""
    if show_payload:
        if not seq:
            raise typer.BadParameter("--show-payload needs the --seq of one dead letter")
        letter = _run(nats_url, lambda js: read_dead_letter(js, seq))
        if letter is None:
            typer.echo(f"#{seq}: not in DVC_DLQ", err=True)
            raise typer.Exit(1)
        _show_payload(letter, show_personal_data)
        return

    async def read(js: JetStreamContext) -> tuple[list[DeadLetter], int]:
        return await read_dead_letters(js, service, limit), await count_dead_letters(js, service)

    letters, total = _run(nats_url, read)
    if letters:
        typer.echo("\n".join(_table(letters, datetime.now(UTC))))
    scope = f" of {service}" if service else ""
    typer.echo(f"{len(letters)} of {total} dead letters{scope} shown")


def _describe(report: RedriveReport, dry_run: bool) -> list[str]:
    lines = [
        f"{'would republish' if dry_run else 'republish'} DLQ #{','.join(map(str, item.dead_letters))} -> "
        f"{item.message.subject} ({item.stream}) as {item.message.msg_id}"
        for item in report.planned
    ]
    lines += [f"skipped DLQ #{sequence}: {why}" for sequence, why in report.skipped]
    lines += [f"failed DLQ #{sequence}: {why}" for sequence, why in report.failed]
    if dry_run:
        lines.append(f"dry run: {report.selected} selected, {len(report.planned)} republishes planned, nothing changed")
    else:
        lines.append(
            f"{report.selected} selected: {report.published} republished, {report.already_published} already "
            f"republished by an earlier run, {report.removed} removed from DVC_DLQ, {len(report.skipped)} skipped, "
            f"{len(report.failed)} failed"
        )
    return lines


@app.command("redrive")
def redrive_command(
    service: str = SERVICE,
    seq: list[int] = typer.Option([], "--seq", help="A DLQ sequence to redrive (repeat the option)"),
    everything: bool = typer.Option(False, "--all", help="Every dead letter (of --service, if given)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be republished; change nothing"),
    nats_url: str = NATS_URL,
) -> None:
    """Re-publish dead letters to their original subject, then delete them from DVC_DLQ (safe to re-run)."""
    if not (seq or service or everything):
        raise typer.BadParameter("say which: --seq N, --service S or --all")
    report = _run(nats_url, lambda js: redrive(js, service=service, sequences=seq, dry_run=dry_run))
    typer.echo("\n".join(_describe(report, dry_run)))
    if report.failed:
        raise typer.Exit(1)

"""`dvc-pulse ingest read`: show events as stored in DVC_EVENTS (the 202 response gives their sequences), the
applicant's name and phone masked unless `--show-personal-data` is given."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import nats
import orjson
import typer
from nats.errors import Error as NatsError
from nats.js.errors import NotFoundError

from services.contracts.streams import EVENTS
from services.ingest.settings import Settings
from services.runtime.nats.cli_url import for_cli, nats_url_option
from services.runtime.personal_data import mask_payload


class StreamMissing(Exception):
    """The server answers but has no DVC_EVENTS stream."""


def read_command(
    seq: list[int] = typer.Option([], "--seq", help="Stream sequence to show (repeat the option)"),
    last: int = typer.Option(0, "--last", min=0, help="Show the last N events instead"),
    show_personal_data: bool = typer.Option(
        False, "--show-personal-data", help="Print names and phones as stored (masked by default)"
    ),
    nats_url: str = nats_url_option(),
) -> None:
    """Print stored events as consumers receive them: sequence, subject, Nats-Msg-Id and the JSON (byte for byte
    with --show-personal-data; otherwise names and phones are masked)."""
    settings = for_cli(Settings(), nats_url)
    try:
        found = asyncio.run(_read(settings.nats_servers, seq, last, show_personal_data, settings.cli_nats_options()))
    except StreamMissing:
        typer.echo(f"{EVENTS.name} does not exist on {settings.nats_url}: run `dvc-pulse streams apply`", err=True)
        raise typer.Exit(1) from None
    except (NatsError, OSError) as error:
        typer.echo(f"cannot reach NATS at {settings.nats_url}: {error}", err=True)
        raise typer.Exit(1) from None
    if not found:
        typer.echo("no event at those sequences", err=True)
        raise typer.Exit(1)


def displayed(payload: bytes, show_personal_data: bool) -> bytes:
    """The stored bytes, or (by default) their masked copy; an event without personal data stays byte-exact."""
    if show_personal_data:
        return payload
    masked = mask_payload(payload)
    return payload if _same_json(masked, payload) else masked


def _same_json(masked: bytes, payload: bytes) -> bool:
    try:
        return bool(orjson.loads(masked) == orjson.loads(payload))
    except orjson.JSONDecodeError:
        return masked == payload


async def _read(
    servers: list[str], sequences: list[int], last: int, show_personal_data: bool, auth: dict[str, Any]
) -> int:
    async def quiet(_error: Exception) -> None:
        return None  # nats-py would print a traceback per attempt; the failure is reported once by the caller

    # max_reconnect_attempts=0 means "retry forever" in nats-py: one retry, then NoServersError.
    client = await nats.connect(
        servers, connect_timeout=5, max_reconnect_attempts=1, reconnect_time_wait=0.5, error_cb=quiet, **auth
    )
    try:
        js = client.jetstream()
        try:
            info = await js.stream_info(EVENTS.name)
        except NotFoundError:
            raise StreamMissing from None
        if last:
            end = info.state.last_seq
            sequences = [*sequences, *range(max(info.state.first_seq, end - last + 1), end + 1)]
        shown = 0
        for sequence in sequences:
            try:
                message = await js.get_msg(EVENTS.name, sequence)
            except NotFoundError:
                typer.echo(f"#{sequence}: not in {EVENTS.name}", err=True)
                continue
            msg_id = (message.headers or {}).get("Nats-Msg-Id", "")
            typer.echo(f"#{message.seq} {message.subject} Nats-Msg-Id={msg_id}")
            sys.stdout.buffer.write(displayed(message.data or b"", show_personal_data) + b"\n")
            sys.stdout.flush()
            shown += 1
        return shown
    finally:
        await client.close()

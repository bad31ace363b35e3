"""`dvc-pulse simulate`: the commune's traffic, sent to ingest over HTTP or written as NDJSON."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import typer
from rich.console import Console

from services.runtime.cli_options import deprecated_alias, preferred
from services.simulator.calendar import VN_TIMEZONE, LegalCalendar
from services.simulator.catalog import load_catalog, load_commune
from services.simulator.generator import World
from services.simulator.model import Config
from services.simulator.progress import Reporter
from services.simulator.runner import Run, run_accelerated, run_history, run_live
from services.simulator.sender import EventSink, HttpSender, NdjsonSink, SendError
from services.simulator.truth import truth_document

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
LIVE_DEFAULT_SPEED = 100.0


def parse_duration(text: str) -> timedelta:
    """`365d`, `12h`, `30m`, `90s`, `2w`."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a duration like 365d, 12h, 30m")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def parse_instant(text: str | None) -> datetime | None:
    """ISO 8601; a date or a time without offset is read in Asia/Ho_Chi_Minh."""
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=VN_TIMEZONE)


def read_key(key: str | None, key_file: Path | None) -> str:
    if key:
        return key
    path = key_file or Path(os.environ.get("DVC_VAR_DIR", "var")) / "demo-ingest-key"
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise typer.BadParameter(f"no ingest key: pass --api-key or create {path} (`make up` does)") from error


def simulate(
    seed: int = typer.Option(42, help="Random seed: the same seed and window give the same events"),
    history: str = typer.Option(None, help="Back-fill this long a window ending at --end (e.g. 365d), then exit"),
    live: bool = typer.Option(False, "--live", help="Back-fill --backfill, then compressed live traffic (make up)"),
    speed: float = typer.Option(
        None, min=0.001, help="Accelerated: simulated time runs N x faster (live: workload x N)"
    ),
    start: str = typer.Option(None, help="Start of the simulated time (ISO 8601; default: now, or end - history)"),
    end: str = typer.Option(None, help="End of the simulated time (ISO 8601; default: now for history, else never)"),
    duration: str = typer.Option(None, help="Stop after this much simulated time (e.g. 2h)"),
    backfill: str = typer.Option("30d", help="Back-fill window of --live"),
    out: Path = typer.Option(None, help="Write NDJSON here instead of sending (for `dvc-pulse import FILE`)"),
    truth: Path = typer.Option(None, help="Write the ground truth (JSON) here when the run ends"),
    ingest_url: str = typer.Option("http://127.0.0.1:8081", "--ingest-url", help="Ingest base URL"),
    old_url: str = deprecated_alias("--url", "--ingest-url"),
    api_key: str = typer.Option(
        None, "--api-key", help="Ingest key (default: the content of $DVC_VAR_DIR/demo-ingest-key)"
    ),
    old_key: str = deprecated_alias("--key", "--api-key"),
    key_file: Path = typer.Option(None, help="File holding the ingest key"),
    batch_size: int = typer.Option(500, min=1, max=1000, help="Events per HTTP batch"),
    concurrency: int = typer.Option(4, min=1, max=32, help="HTTP batches in flight"),
    daily_dossiers: float = typer.Option(None, min=0, help="Mean dossiers per working day (default 60)"),
    late_share: float = typer.Option(None, min=0, max=1, help="Share of dossiers processed late (default 0.08)"),
    online_share: float = typer.Option(None, min=0, max=1, help="Share of dossiers submitted online (default 0.62)"),
    catalog: Path = typer.Option(None, help="Procedure catalogue YAML (default: the packaged Lâm Thao one)"),
    commune: Path = typer.Option(None, help="Agencies and officers YAML (default: the packaged Lâm Thao one)"),
) -> None:
    """Simulate a commune's public-service centre: procedures, dossiers, payments, documents, feedback."""
    config = Config().with_overrides(daily_dossiers=daily_dossiers, late_share=late_share, online_share=online_share)
    world = World(load_catalog(catalog), load_commune(commune), LegalCalendar(), config)
    schedule = _schedule(history, live, speed, start, end, duration, backfill, writes_file=out is not None)
    console = Console(stderr=True)
    sink: EventSink
    if out is not None:
        sink = NdjsonSink(out)
    else:
        url = preferred(ingest_url, old_url, "--url", "--ingest-url")
        key = read_key(preferred(api_key, old_key, "--key", "--api-key"), key_file)
        sink = HttpSender(url, key, batch_size=batch_size, concurrency=concurrency)
    reporter = Reporter(console, lambda: sink.stats)
    sink.on_sent = reporter.advance
    run = Run(world, seed, sink, reporter, keep_truth=truth is not None or not live)
    _run_to_end(run, schedule, console, truth)


@dataclass(frozen=True)
class _Schedule:
    """Which simulated time to send, and how fast: a back-filled window, live traffic or an accelerated run."""

    now: datetime
    start_at: datetime | None
    end_at: datetime | None
    history: str | None
    live: bool
    speed: float | None
    backfill: str
    writes_file: bool

    async def drive(self, run: Run, stop: asyncio.Event) -> None:
        if self.history is not None or self.writes_file:
            window_end = self.end_at or self.now
            window_start = self.start_at or window_end - parse_duration(self.history or "1d")
            await run_history(run, window_start, window_end)
        elif self.live:
            speed = self.speed or LIVE_DEFAULT_SPEED
            await run_live(run, self.now, parse_duration(self.backfill), speed, self.end_at, stop)
        else:
            await run_accelerated(run, self.start_at or self.now, self.speed or 1.0, self.end_at, stop)


def _schedule(
    history: str | None,
    live: bool,
    speed: float | None,
    start: str | None,
    end: str | None,
    duration: str | None,
    backfill: str,
    *,
    writes_file: bool,
) -> _Schedule:
    now = datetime.now(VN_TIMEZONE).replace(microsecond=0)
    start_at, end_at = parse_instant(start), parse_instant(end)
    if duration is not None:
        end_at = (start_at or now) + parse_duration(duration)
    if writes_file and history is None and (start_at is None or end_at is None):
        raise typer.BadParameter("--out writes a window: give --history or both --start and --end")
    return _Schedule(now, start_at, end_at, history, live, speed, backfill, writes_file)


async def _send(run: Run, schedule: _Schedule) -> None:
    """Until the schedule ends or SIGTERM/SIGINT arrives (then the run stops at its next step)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    async with run.sink:
        await schedule.drive(run, stop)
    run.reporter.close()


def _run_to_end(run: Run, schedule: _Schedule, console: Console, truth: Path | None) -> None:
    """Runs the schedule; the ground truth is written even when ingest refused the events."""
    try:
        asyncio.run(_send(run, schedule))
    except SendError as error:
        console.print(f"[red]Ingest refused the events: {error}[/red]")
        raise typer.Exit(2) from None
    finally:
        final = run.final_truth()
        if truth is not None and final is not None:
            truth.write_bytes(orjson.dumps(truth_document(final, run.world.legal), option=orjson.OPT_INDENT_2))


TOP_LEVEL_COMMANDS = {"simulate": simulate}

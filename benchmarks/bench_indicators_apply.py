"""Indicators: apply throughput of the live consumer from a filled DVC_EVENTS, and the rebuild.

Targets: >= 0.2 x the raw nats-py push consume (bench_nats_anchors) on PostgreSQL; rebuild of 1,000,000 events
<= 90 s (>= 11,111 events/s) under 200 MB RSS. Runs its own nats-server on a free port; PostgreSQL from
$DVC_BENCH_POSTGRES_URL, else $DVC_TEST_POSTGRES_URL (skipped when neither is set or it is unreachable): a
database of its own is created there and dropped after.

    python -m benchmarks indicators_apply                # default sizes
    python -m benchmarks.bench_indicators_apply --events 50000 --rebuild-events 0
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import nats
import orjson
from asgi_lifespan import LifespanManager
from sqlalchemy import select
from sqlalchemy.engine import make_url

from benchmarks.results import ANCHOR_CONSUME, Row, Target, record
from benchmarks.stack import high_water_mb
from services.contracts.events import EventType
from services.contracts.subjects import event_subject
from services.indicators.adapters.tables import TABLES
from services.indicators.bootstrap import create_app
from services.indicators.settings import Settings
from services.runtime.db import create_engine
from services.runtime.gc_tuning import freeze_startup_objects
from services.runtime.nats.embedded import EmbeddedNats, free_port
from services.runtime.nats.publishing import OutgoingMessage, publish_all
from services.runtime.nats.streams import apply_streams

BENCHMARK = "indicators_apply"
VN = timezone(timedelta(hours=7))
LIFECYCLE = (
    "submitted",
    "accepted",
    "supplement_requested",
    "supplement_received",
    "payment_requested",
    "paid",
    "processed",
    "returned",
    "rescheduled",
    "transferred",
)


def _data(kind: str, code: str, number: int) -> dict[str, Any]:
    base: dict[str, Any] = {
        "dossier_code": code,
        "procedure_code": f"1.00{number % 50:04d}",
        "agency": f"AG-{number % 8}",
    }
    applicant = {"kind": "citizen", "name": "Nguyễn Văn An", "phone": "0912345678", "sms_consent": True}
    extra: dict[str, dict[str, Any]] = {
        "submitted": {"channel": "online", "applicant": applicant},
        "accepted": {
            "channel": ("online", "direct", "postal")[number % 3],
            "applicant": applicant,
            "receiving_agency": "TTHCC",
            "officer": f"CB-{number % 40:03d}",
            "due_at": "2026-03-20T17:00:00+07:00",
            "digitized": True,
            "reused_data": number % 2 == 0,
        },
        "supplement_requested": {"officer": "CB-001", "reason": "Thiếu giấy tờ"},
        "supplement_received": {},
        "payment_requested": {"fee_amount": 50000},
        "paid": {"fee_amount": 50000, "paid_online": number % 4 != 0},
        "processed": {"officer": "CB-001", "result_electronic": True, "result_digitized": True},
        "returned": {"delivery": "electronic"},
        "rescheduled": {"officer": "CB-001", "new_due_at": "2026-03-25T17:00:00+07:00", "reason": "Xác minh"},
        "transferred": {"officer": "CB-001", "to_agency": "AG-9", "to_officer": "CB-099"},
    }
    base.update(extra[kind])
    return base


def generate(count: int, run: str, first: int = 0, stop: int | None = None) -> list[OutgoingMessage]:
    """Events [first, stop) of `count`: 10 per dossier, interleaved across dossiers like a working day."""
    messages = []
    start = datetime(2026, 3, 2, 8, 0, tzinfo=VN)
    dossiers = max(1, count // len(LIFECYCLE))
    for index in range(first, count if stop is None else min(stop, count)):
        number, step = index % dossiers, index // dossiers
        kind = LIFECYCLE[step % len(LIFECYCLE)]
        code = f"BENCH-{run}-{number:07d}"
        event = {
            "specversion": "1.0",
            "id": f"{run}-{index}",
            "source": "urn:dvc:bench",
            "time": (start + timedelta(minutes=step * 30, seconds=number % 1800)).isoformat(),
            "type": f"vn.gov.dvc.dossier.{kind}",
            "subject": code,
            "data": _data(kind, code, number),
        }
        subject = event_subject(EventType(event["type"]))
        messages.append(OutgoingMessage(subject, orjson.dumps(event), f"urn:dvc:bench:{event['id']}"))
    return messages


async def fill(url: str, count: int, run: str) -> float:
    client = await nats.connect(url)
    js = client.jetstream()
    await apply_streams(js)
    started = time.perf_counter()
    for offset in range(0, count, 4000):
        await publish_all(js, generate(count, run, offset, offset + 4000), timeout=30)
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


async def applied(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            value = await connection.scalar(select(TABLES.consumer_state.c.events_applied))
    except Exception:
        value = 0
    await engine.dispose()
    return int(value or 0)


async def measure_apply(nats_url: str, database_url: str, count: int) -> float:
    settings = Settings(nats_url=nats_url, database_url=database_url, consumer=f"bench{uuid.uuid4().hex[:6]}")
    app = create_app(settings, early_warning=False)
    freeze_startup_objects()  # as `services.indicators.bootstrap.run` does
    engine = create_engine(database_url)
    try:
        async with LifespanManager(app, startup_timeout=120, shutdown_timeout=60):
            started = time.perf_counter()
            while True:
                async with engine.connect() as connection:
                    done = await connection.scalar(select(TABLES.consumer_state.c.events_applied))
                if int(done or 0) >= count:
                    return count / (time.perf_counter() - started)
                await asyncio.sleep(0.2)
    finally:
        await engine.dispose()


def measure_rebuild(nats_url: str, database_url: str) -> tuple[float, float]:
    """Run `dvc-pulse indicators rebuild` in a child process: (seconds, peak RSS in MB). The peak is the child's
    VmHWM, read while it runs: rusage's maxrss of a child on Linux includes the parent's size at the fork."""
    env = {**os.environ, "DVC_NATS_URL": nats_url, "DVC_INDICATORS_DATABASE_URL": database_url}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "services.ops.cli", "indicators", "rebuild", "--batch-size", "2000"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, high_water_mb(process.pid))
        time.sleep(0.2)
    if process.returncode != 0:
        raise RuntimeError(f"the rebuild exited with {process.returncode}")
    return time.perf_counter() - started, peak


def _admin_url() -> str | None:
    url = os.environ.get("DVC_BENCH_POSTGRES_URL") or os.environ.get("DVC_TEST_POSTGRES_URL")
    if not url:
        return None
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def postgres_database() -> str | None:
    """A fresh database for one measurement (dropped by `drop_postgres_database`), or None if unreachable."""
    import asyncpg

    name = f"dvc_bench_{uuid.uuid4().hex[:8]}"
    admin_url = _admin_url()
    if admin_url is None:
        return None
    try:
        admin = await asyncpg.connect(admin_url, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return None
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return make_url(admin_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(False)


async def drop_postgres_database(url: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(str(_admin_url()), timeout=3)
    await admin.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    await admin.close()


REBUILD_TARGET_SECONDS = 90.0  # for 1,000,000 events
RSS_TARGET_MB = 200.0


def _apply_row(backend: str, rate: float, events: int) -> None:
    target = Target("at_least", 0.2, "ratio") if backend == "postgres" else None
    label = f"indicators apply ({'PostgreSQL' if backend == 'postgres' else 'SQLite'})"
    note = f"{events:,} events from DVC_EVENTS"
    record(Row(f"indicators_apply_{backend}", BENCHMARK, label, rate, "events/s", ANCHOR_CONSUME, target, note))


def _rebuild_rows(total: int, seconds: float, peak: float) -> None:
    rate = total / seconds
    note = f"{total:,} events, SQLite, {1_000_000 / rate:.0f} s per 1,000,000"
    target = Target("at_least", round(1_000_000 / REBUILD_TARGET_SECONDS))
    record(Row("rebuild", BENCHMARK, "indicators rebuild", rate, "events/s", ANCHOR_CONSUME, target, note))
    rss_target = Target("at_most", RSS_TARGET_MB)
    record(Row("rebuild_rss", BENCHMARK, "indicators rebuild peak RSS", peak, "MB", None, rss_target))


def _measure_backend(server_url: str, directory: Path, backend: str, events: int) -> None:
    url = f"sqlite+aiosqlite:///{directory / 'apply.db'}"
    if backend == "postgres":
        found = asyncio.run(postgres_database())
        if found is None:
            print("postgres: no DVC_BENCH_POSTGRES_URL / DVC_TEST_POSTGRES_URL, or unreachable: skipped")
            return
        url = found
    try:
        rate = asyncio.run(measure_apply(server_url, url, events))
    finally:
        if backend == "postgres":
            asyncio.run(drop_postgres_database(url))
    _apply_row(backend, rate, events)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_indicators_apply")
    parser.add_argument("--events", type=int, default=200_000, help="Events for the apply measurement")
    parser.add_argument("--rebuild-events", type=int, default=1_000_000, help="Events for the rebuild (0: skip)")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        server = EmbeddedNats(free_port(), Path(directory) / "nats")
        server.start()
        try:
            seconds = asyncio.run(fill(server.url, args.events, "a"))
            print(f"filled DVC_EVENTS with {args.events:,} events in {seconds:.1f} s")
            for backend in ["sqlite", "postgres"] if args.backend == "both" else [args.backend]:
                _measure_backend(server.url, Path(directory), backend, args.events)
            if args.rebuild_events:
                asyncio.run(fill(server.url, max(0, args.rebuild_events - args.events), "b"))
                url = f"sqlite+aiosqlite:///{Path(directory) / 'rebuild.db'}"
                seconds, peak = measure_rebuild(server.url, url)
                _rebuild_rows(max(args.rebuild_events, args.events), seconds, peak)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Indicators: apply throughput of the live consumer from a filled DVC_EVENTS, and the rebuild.

Targets: >= 15,000 events/s on PostgreSQL, >= 10,000 on SQLite; rebuild of 1,000,000 events <= 120 s
under 250 MB RSS. Runs its own nats-server on a free port; PostgreSQL from $DVC_BENCH_POSTGRES_URL
(default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres, skipped if unreachable).

    python -m benchmarks indicators_apply                # default sizes
    python -m benchmarks.bench_indicators_apply --events 50000 --rebuild-events 0
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
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
    """Run `dvc-pulse indicators rebuild` in a child process: (seconds, peak RSS in MB)."""
    env = {**os.environ, "DVC_NATS_URL": nats_url, "DVC_INDICATORS_DATABASE_URL": database_url}
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(
        [sys.executable, "-m", "services.ops.cli", "indicators", "rebuild", "--batch-size", "2000"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - started
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return elapsed, peak


def _admin_url() -> str:
    url = os.environ.get("DVC_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def postgres_database() -> str | None:
    """A fresh database for one measurement (dropped by `drop_postgres_database`), or None if unreachable."""
    import asyncpg

    name = f"dvc_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = await asyncpg.connect(_admin_url(), timeout=3)
    except (OSError, asyncpg.PostgresError):
        return None
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return make_url(_admin_url()).set(drivername="postgresql+asyncpg", database=name).render_as_string(False)


async def drop_postgres_database(url: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(_admin_url(), timeout=3)
    await admin.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    await admin.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_indicators_apply")
    parser.add_argument("--events", type=int, default=200_000, help="Events for the apply measurement")
    parser.add_argument("--rebuild-events", type=int, default=1_000_000, help="Events for the rebuild (0: skip)")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args(argv)
    status = 0
    with tempfile.TemporaryDirectory() as directory:
        server = EmbeddedNats(free_port(), Path(directory) / "nats")
        server.start()
        try:
            seconds = asyncio.run(fill(server.url, args.events, "a"))
            print(f"filled DVC_EVENTS with {args.events:,} events in {seconds:.1f} s")
            backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
            targets = {"sqlite": 10_000, "postgres": 15_000}
            for backend in backends:
                url = f"sqlite+aiosqlite:///{Path(directory) / 'apply.db'}"
                if backend == "postgres":
                    found = asyncio.run(postgres_database())
                    if found is None:
                        print("postgres: unreachable, skipped")
                        continue
                    url = found
                try:
                    rate = asyncio.run(measure_apply(server.url, url, args.events))
                finally:
                    if backend == "postgres":
                        asyncio.run(drop_postgres_database(url))
                verdict = "OK" if rate >= targets[backend] else "BELOW TARGET"
                print(f"apply {backend}: {rate:,.0f} events/s (target {targets[backend]:,}) {verdict}")
                status |= 0 if rate >= targets[backend] else 1
            if args.rebuild_events:
                asyncio.run(fill(server.url, max(0, args.rebuild_events - args.events), "b"))
                url = f"sqlite+aiosqlite:///{Path(directory) / 'rebuild.db'}"
                seconds, peak = measure_rebuild(server.url, url)
                verdict = "OK" if seconds <= 120 and peak <= 250 else "BELOW TARGET"
                total = max(args.rebuild_events, args.events)
                print(f"rebuild sqlite: {total:,} events in {seconds:.1f} s, peak RSS {peak:.0f} MB {verdict}")
                status |= 0 if verdict == "OK" else 1
        finally:
            server.stop()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

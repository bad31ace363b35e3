"""Indicators throughput with 1 and 2 partitions on one PostgreSQL (docs/performance.md, "Scaling out").

Fills DVC_EVENTS of a nats-server of its own with keyed events (as ingest publishes them, so the stream's
transform stores their partition slot), then for each partition count starts that many indicators replicas as
separate processes (`dvc-pulse serve indicators`, each owning one partition) on a fresh PostgreSQL database and
measures events applied per second, from the first applied batch to the last. PostgreSQL from
$DVC_BENCH_POSTGRES_URL or $DVC_TEST_POSTGRES_URL; without either (or unreachable) it records nothing and says so.

    python -m benchmarks.bench_partitions --events 200000 --partitions 1 2
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
from pathlib import Path

import orjson
from sqlalchemy import func, select

from benchmarks.bench_indicators_apply import drop_postgres_database, generate, postgres_database
from benchmarks.results import ANCHOR_CONSUME, Row, record
from services.contracts.partitioning import key_token
from services.indicators.adapters.tables import TABLES
from services.runtime.db import create_engine
from services.runtime.nats.embedded import EmbeddedNats, free_port
from services.runtime.nats.publishing import OutgoingMessage, publish_all
from services.runtime.nats.streams import apply_streams

CHUNK = 4000


class PostgresMissing(Exception):
    """Partitions need PostgreSQL (SQLite has one writer)."""


def keyed(messages: list[OutgoingMessage]) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(f"{m.subject}.{key_token(orjson.loads(m.payload)['subject'])}", m.payload, m.msg_id)
        for m in messages
    ]


async def fill(url: str, count: int) -> None:
    import nats

    client = await nats.connect(url)
    js = client.jetstream()
    await apply_streams(js)
    for offset in range(0, count, CHUNK):
        await publish_all(js, keyed(generate(count, "part", offset, offset + CHUNK)), timeout=30)
    await client.close()


async def applied(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            value = await connection.scalar(select(func.sum(TABLES.consumer_state.c.events_applied)))
    except Exception:  # the tables do not exist before the replicas' migrations
        value = 0
    finally:
        await engine.dispose()
    return int(value or 0)


def start_replicas(nats_url: str, database_url: str, partitions: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    consumer = f"bench-{uuid.uuid4().hex[:6]}"  # new durables for every measurement, so repeats read everything
    processes = []
    for index in range(partitions):
        env = {
            **os.environ,
            "DVC_NATS_URL": nats_url,
            "DVC_VAR_DIR": str(logs / f"var-{partitions}-{index}"),
            "DVC_INDICATORS_DATABASE_URL": database_url,
            "DVC_INDICATORS_PORT": str(free_port()),
            "DVC_INDICATORS_CONSUMER": consumer,
            "DVC_INDICATORS_PARTITIONS": str(partitions),
            "DVC_INDICATORS_OWNED_PARTITIONS": f"[{index}]",
        }
        log = (logs / f"{consumer}-{index}.log").open("wb")
        command = [sys.executable, "-m", "services.ops.cli", "serve", "indicators"]
        processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
    return processes


async def measure(nats_url: str, partitions: int, count: int, logs: Path) -> float:
    database_url = await postgres_database()
    if database_url is None:
        raise PostgresMissing
    processes = start_replicas(nats_url, database_url, partitions, logs)
    try:
        first_seen, first_time = 0, 0.0
        while (done := await applied(database_url)) < count:
            if not first_seen and done:
                first_seen, first_time = done, time.perf_counter()
            await asyncio.sleep(0.2)
        return (count - first_seen) / (time.perf_counter() - first_time)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        await drop_postgres_database(database_url)


async def run(count: int, partition_counts: list[int], logs: Path | None) -> None:
    with tempfile.TemporaryDirectory() as directory:
        logs = logs or Path(directory)
        logs.mkdir(parents=True, exist_ok=True)
        server = EmbeddedNats(free_port(), Path(directory) / "nats")
        server.start()
        try:
            await fill(server.url, count)
            for partitions in partition_counts:
                rate = await measure(server.url, partitions, count, logs)
                print(f"partitions={partitions} events={count} applied_per_second={rate:,.0f}", flush=True)
                record(
                    Row(
                        f"indicators_partitions_{partitions}",
                        "partitions",
                        f"indicators apply, {partitions} partition(s) as separate processes, PostgreSQL",
                        rate,
                        "events/s",
                        anchor=ANCHOR_CONSUME,
                    )
                )
        except PostgresMissing:
            print("postgres: no DVC_BENCH_POSTGRES_URL / DVC_TEST_POSTGRES_URL, or unreachable: skipped")
        finally:
            server.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_partitions")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--logs", type=Path, default=None, help="Keep the replicas' logs here")
    args = parser.parse_args(argv)
    asyncio.run(run(args.events, args.partitions, args.logs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

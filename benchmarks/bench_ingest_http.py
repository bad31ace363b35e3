"""HTTP ingest throughput: its own nats-server, the ingest app under uvicorn in a subprocess, N events posted in
batches over a few concurrent connections (bodies serialised beforehand), then every event checked in DVC_EVENTS.

`python -m benchmarks ingest_http` (or `python -m benchmarks.bench_ingest_http --events 50000`).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import nats
import orjson

from benchmarks.results import ANCHOR_PUBLISH, Row, Target, record
from services.runtime.nats.embedded import EmbeddedNats, free_port
from services.runtime.nats.streams import apply_streams

KEY = "dvcik_benchmark-key"
SOURCE = "urn:dvc:lam-thao:one-stop"
NAMES = ("Nguyễn Thị Hồng Nhung", "Trần Văn Bình", "Lê Thị Hoa", "Phạm Đức Thắng", "Đỗ Ngọc Ánh")


def sample_event(number: int) -> dict[str, Any]:
    dossier = f"000.00.00.H00-260302-{number // 4:07d}"
    common = {"dossier_code": dossier, "procedure_code": "1.001193", "agency": "UBND-LAMTHAO"}
    step = number % 4
    if step == 0:
        short, data = "dossier.submitted", {"channel": "online", "applicant": _applicant(number)}
    elif step == 1:
        short = "dossier.accepted"
        data = {
            "channel": "online",
            "applicant": _applicant(number),
            "receiving_agency": "UBND-LAMTHAO",
            "officer": f"CB-{number % 17:03d}",
            "due_at": "2026-03-05T17:00:00+07:00",
            "digitized": True,
            "reused_data": number % 3 == 0,
        }
    elif step == 2:
        short, data = "dossier.processed", {"officer": "CB-001", "result_electronic": True, "result_digitized": True}
    else:
        short, data = "dossier.returned", {"delivery": "electronic"}
    return {
        "specversion": "1.0",
        "id": f"bench-{number:09d}",
        "source": SOURCE,
        "type": f"vn.gov.dvc.{short}",
        "time": "2026-03-02T08:15:00+07:00",
        "subject": dossier,
        "datacontenttype": "application/json",
        "data": {**common, **data},
    }


def _applicant(number: int) -> dict[str, Any]:
    return {"kind": "citizen", "name": NAMES[number % len(NAMES)], "phone": "0912345678", "sms_consent": True}


def _bodies(events: int, batch: int) -> list[bytes]:
    return [
        orjson.dumps([sample_event(number) for number in range(start, min(start + batch, events))])
        for start in range(0, events, batch)
    ]


async def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the ingest exited with {process.returncode}")
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError("the ingest did not become ready")


async def _post_all(url: str, bodies: list[bytes], connections: int) -> tuple[float, list[float], int]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    accepted = 0
    headers = {"content-type": "application/cloudevents-batch+json", "authorization": f"Bearer {KEY}"}

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal accepted
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            response = await client.post(f"{url}/v1/events", content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 202:
                raise RuntimeError(f"POST answered {response.status_code}: {response.text[:300]}")
            accepted += response.json()["accepted"]

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, accepted


async def _stored(url: str) -> int:
    client = await nats.connect(url)
    try:
        return int((await client.jetstream().stream_info("DVC_EVENTS")).state.messages)
    finally:
        await client.close()


async def _apply(url: str) -> None:
    client = await nats.connect(url)
    try:
        await apply_streams(client.jetstream())
    finally:
        await client.close()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc); 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_ingest_http", description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--connections", type=int, default=4)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as directory:
        root = Path(directory)
        server = EmbeddedNats(free_port(), root / "nats")
        server.start()
        process: subprocess.Popen[bytes] | None = None
        try:
            asyncio.run(_apply(server.url))
            port = free_port()
            keys = orjson.dumps(
                [{"name": "bench", "sha256": hashlib.sha256(KEY.encode()).hexdigest(), "sources": ["urn:dvc:*"]}]
            )
            env = {
                **os.environ,
                "DVC_NATS_URL": server.url,
                "DVC_VAR_DIR": str(root / "var"),
                "DVC_INGEST_PORT": str(port),
                "DVC_INGEST_KEYS": keys.decode(),
            }
            with open(root / "ingest.log", "wb") as log:
                command = [sys.executable, "-m", "services.ops.cli", "serve", "ingest"]
                process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
            url = f"http://127.0.0.1:{port}"
            asyncio.run(_wait_ready(url, process))
            bodies = _bodies(options.events, options.batch)
            assert server.process is not None
            cpu_before = _cpu_seconds(process.pid), _cpu_seconds(server.process.pid)
            elapsed, latencies, accepted = asyncio.run(_post_all(url, bodies, options.connections))
            cpu_ingest = _cpu_seconds(process.pid) - cpu_before[0]
            cpu_nats = _cpu_seconds(server.process.pid) - cpu_before[1]
            stored = asyncio.run(_stored(server.url))
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
            server.stop()
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    print(
        f"ingest HTTP: {options.events} events in batches of {options.batch} over {options.connections} connections: "
        f"{elapsed:.2f} s, {options.events / elapsed:,.0f} events/s "
        f"(request p50 {quantiles[49] * 1000:.0f} ms, p99 {quantiles[98] * 1000:.0f} ms)"
    )
    print(
        f"CPU per event: ingest {cpu_ingest / options.events * 1e6:.1f} us, nats-server "
        f"{cpu_nats / options.events * 1e6:.1f} us (the machine's other load lowers events/s, not these)"
    )
    print(f"accepted {accepted}, stored in DVC_EVENTS {stored}")
    record(
        Row(
            "ingest_http",
            "ingest_http",
            "ingest HTTP POST /v1/events -> DVC_EVENTS",
            options.events / elapsed,
            "events/s",
            anchor=ANCHOR_PUBLISH,
            target=Target("at_least", 0.5, "ratio"),
            note=f"batches of {options.batch}, {options.connections} connections",
        )
    )
    return 0 if accepted == stored == options.events else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

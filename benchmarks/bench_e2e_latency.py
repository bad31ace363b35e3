"""Freshness under steady traffic: the whole stack (`dvc-pulse up`), `--dossiers` open dossiers loaded first,
then for each rate a steady stream of events for `--seconds`. Five times a second one of them is a marker: a
new dossier accepted with SMS consent, timed from ingest's 202 to (a) the dossier visible in
`GET /v1/dossiers/{code}` of the indicators API and (b) its SMS in the outbox (the outbox line's `sent_at`).
Quiet hours are off. At the end, the peak RSS of every service.

`python -m benchmarks e2e_latency` (or `python -m benchmarks.bench_e2e_latency --dossiers 1000 --seconds 10`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks.results import Row, Target, record
from benchmarks.stack import Stack
from benchmarks.traffic import BACKGROUND_STEPS, event, marker_phone, post, post_many, wait_visible
from services.notifier.adapters.providers.outbox import read_outbox

BENCHMARK = "e2e_latency"
MARKERS_PER_SECOND = 5
TICKS_PER_SECOND = 10
VISIBLE_TIMEOUT = 30.0
RSS_TARGET_MB = 200.0
MARKER = re.compile(r"MK-\d+-\d+")
MARKER_NUMBERS = itertools.count(1)  # one phone each (7 digits), across the rates of a run


async def preload(stack: Stack, dossiers: int) -> float:
    """`dossiers` open dossiers (submitted + accepted, no SMS consent), then wait until the indicators and the
    notifier caught up (a sentinel dossier visible and its SMS sent)."""
    started = time.perf_counter()
    events = [event(f"pre-{n}-{step}", f"PRE-{n:07d}", step) for n in range(dossiers) for step in BACKGROUND_STEPS[:2]]
    batches = [events[first : first + 1000] for first in range(0, len(events), 1000)]
    await post_many(stack.url("ingest"), stack.ingest_headers, batches)
    async with httpx.AsyncClient(timeout=30.0) as client:
        sentinel = event("sentinel", "MK-0-0", "accepted", marker_phone(0))
        await post(client, stack.url("ingest"), stack.ingest_headers, [sentinel])
        if not await wait_visible(client, stack.url("indicators"), "MK-0-0", timeout=1800, every=0.5):
            raise TimeoutError("the indicators did not catch up with the preload")
    await _wait_sms(stack.outbox, {"MK-0-0"}, timeout=600)
    return time.perf_counter() - started


async def steady(stack: Stack, rate: int, seconds: float, markers: dict[str, float]) -> list[float]:
    """`rate` events/s for `seconds`; returns the markers' POST-202-to-visible latencies (s), records each
    marker's 202 wall time in `markers` (for the SMS latency)."""
    ticks = max(1, min(rate, TICKS_PER_SECOND))
    per_tick = rate / ticks
    marker_every = max(1, round(ticks / MARKERS_PER_SECOND))
    latencies: list[float] = []
    pollers: list[asyncio.Task[None] | asyncio.Task[bool]] = []
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        ingest, indicators, headers = stack.url("ingest"), stack.url("indicators"), stack.ingest_headers

        async def marker(number: int) -> None:
            code = f"MK-{rate}-{number}"
            accepted = event(f"mk-{rate}-{number}", code, "accepted", marker_phone(number))
            if not await _posted(client, ingest, headers, [accepted]):
                latencies.append(VISIBLE_TIMEOUT)  # refused or timed out: counted as never visible
                return
            markers[code] = time.time()
            acknowledged = time.perf_counter()
            visible = await wait_visible(client, indicators, code, VISIBLE_TIMEOUT)
            latencies.append(time.perf_counter() - acknowledged if visible else VISIBLE_TIMEOUT)

        sent = 0.0
        background = 0
        start = time.perf_counter()
        for tick in range(int(seconds * ticks)):
            await asyncio.sleep(max(0.0, start + tick / ticks - time.perf_counter()))
            count = int((tick + 1) * per_tick) - int(sent)
            sent += per_tick
            if tick % marker_every == 0:
                pollers.append(asyncio.create_task(marker(next(MARKER_NUMBERS))))
                count -= 1
            batch = [_background(rate, background + n) for n in range(max(0, count))]
            background += len(batch)
            if batch:
                pollers.append(asyncio.create_task(_posted(client, ingest, headers, batch)))
        await asyncio.gather(*pollers)
    return latencies


async def _posted(client: httpx.AsyncClient, url: str, headers: dict[str, str], events: list[dict[str, Any]]) -> bool:
    """POST the events; False (and a line on stderr) when ingest refused them or did not answer in time."""
    try:
        await post(client, url, headers, events)
    except (httpx.HTTPError, RuntimeError) as error:
        print(f"POST of {len(events)} event(s) failed: {type(error).__name__}: {error}", file=sys.stderr)
        return False
    return True


def _background(rate: int, number: int) -> dict[str, Any]:
    dossier, step = divmod(number, len(BACKGROUND_STEPS))
    return event(f"bg-{rate}-{number}", f"BG-{rate}-{dossier:07d}", BACKGROUND_STEPS[step])


async def _wait_sms(outbox: Path, codes: set[str], timeout: float) -> dict[str, float]:
    """Dossier code -> `sent_at` (epoch seconds) of its SMS, once every code has one or at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        sent = {}
        for line in read_outbox(outbox):
            found = MARKER.search(str(line.get("text", "")))
            if found and found.group() in codes:
                sent[found.group()] = datetime.fromisoformat(line["sent_at"]).timestamp()
        if len(sent) >= len(codes) or time.monotonic() > deadline:
            return sent
        await asyncio.sleep(0.5)


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1] * 1000}


def _latency_rows(kind: str, rate: int, values: list[float], targets: dict[str, Target], note: str) -> None:
    what = {"kpi": "event -> dossier visible in indicators API", "sms": "event -> SMS in the outbox"}[kind]
    for name, figure in _quantiles(values).items():
        label = f"{what}, {rate} events/s, {name}"
        record(Row(f"e2e_{kind}_{rate}_{name}", BENCHMARK, label, figure, "ms", None, targets.get(name), note))


def _rss_rows(peaks: dict[str, float]) -> None:
    for name, peak in sorted(peaks.items()):
        target = None if name == "nats" else Target("at_most", RSS_TARGET_MB)
        label = "nats-server peak RSS" if name == "nats" else f"{name} peak RSS"
        record(Row(f"rss_{name}", BENCHMARK, label, peak, "MB", None, target, "over the e2e run"))


async def _run(stack: Stack, dossiers: int, rates: list[int], seconds: float) -> None:
    took = await preload(stack, dossiers)
    print(f"preloaded {dossiers:,} open dossiers in {took:.0f} s", flush=True)
    note = f"{dossiers:,} dossiers in the store, {seconds:g} s"
    for rate in rates:
        markers: dict[str, float] = {}
        latencies = await steady(stack, rate, seconds, markers)
        _latency_rows("kpi", rate, latencies, {"p99": Target("at_most", 100), "max": Target("at_most", 500)}, note)
        sent = await _wait_sms(stack.outbox, set(markers), timeout=60)
        sms = [sent.get(code, posted + 60) - posted for code, posted in markers.items()]
        missing = len(markers) - len(sent)
        sms_note = note + (f", {missing} SMS missing after 60 s (counted as 60 s)" if missing else "")
        _latency_rows("sms", rate, [max(0.0, value) for value in sms], {"p99": Target("at_most", 1000)}, sms_note)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_e2e_latency", description=__doc__)
    parser.add_argument("--dossiers", type=int, default=100_000, help="Open dossiers loaded before measuring")
    parser.add_argument("--rates", default="10,100,1000", help="Steady rates (events/s), comma-separated")
    parser.add_argument("--seconds", type=float, default=60.0, help="Duration of each rate")
    options = parser.parse_args(argv)
    rates = [int(rate) for rate in options.rates.split(",") if rate]
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as directory:
        stack = Stack(Path(directory) / "var")
        with stack:
            asyncio.run(_run(stack, options.dossiers, rates, options.seconds))
        _rss_rows(stack.peak_rss)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

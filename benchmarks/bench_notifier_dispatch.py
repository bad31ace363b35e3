"""Notifier dispatch: `--messages` dossiers accepted at once (SMS consent, one phone each) through the whole
stack, and the rate at which their SMS leave, first to last: to the outbox (the embedded provider, one fsync per
group of lines) and to a local HTTP gateway (an eSMS-like JSON API answering at once, run by this benchmark).

`python -m benchmarks notifier_dispatch` (or `python -m benchmarks.bench_notifier_dispatch --messages 500`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import orjson

from benchmarks.results import Row, record
from benchmarks.stack import Stack
from benchmarks.traffic import event, marker_phone, post_many
from services.notifier.adapters.providers.outbox import read_outbox
from services.runtime.nats.embedded import free_port

BENCHMARK = "notifier_dispatch"
ANSWER = orjson.dumps({"CodeResult": "100", "SMSID": "bench"})


class LocalGateway:
    """An HTTP/1.1 keep-alive server in a thread of its own: every request is accepted; arrival times kept."""

    def __init__(self) -> None:
        self.port = free_port()
        self.arrivals: list[float] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                self.arrivals.append(time.time())
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(ANSWER)
                    + ANSWER
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def __enter__(self) -> LocalGateway:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(asyncio.start_server(self._serve, "127.0.0.1", self.port), self._loop).result(
            10
        )
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


def _accepted(messages: int, run: str) -> list[list[dict[str, object]]]:
    events = [event(f"{run}-{n}", f"DS-{run}-{n:07d}", "accepted", marker_phone(n)) for n in range(messages)]
    return [events[first : first + 500] for first in range(0, len(events), 500)]


def _rate(times: list[float]) -> float:
    return (len(times) - 1) / (max(times) - min(times)) if len(times) > 1 and max(times) > min(times) else 0.0


def _wait_for(count: int, read: Callable[[], list[float]], timeout: float) -> list[float]:
    deadline = time.monotonic() + timeout
    times = read()
    while len(times) < count and time.monotonic() < deadline:
        time.sleep(0.5)
        times = read()
    return times


def measure_outbox(directory: Path, messages: int) -> tuple[float, int]:
    with Stack(directory / "outbox") as stack:
        asyncio.run(post_many(stack.url("ingest"), stack.ingest_headers, _accepted(messages, "o")))

        def sent() -> list[float]:
            return [datetime.fromisoformat(line["sent_at"]).timestamp() for line in read_outbox(stack.outbox)]

        times = _wait_for(messages, sent, timeout=max(120.0, messages / 20))
    return _rate(times), len(times)


def measure_http(directory: Path, messages: int) -> tuple[float, int]:
    with LocalGateway() as gateway:
        provider = f'[{{kind: http, name: bench, url: "{gateway.url}", receipt_token: bench-token}}]'
        with Stack(directory / "http", {"DVC_NOTIFIER_PROVIDERS": provider}) as stack:
            asyncio.run(post_many(stack.url("ingest"), stack.ingest_headers, _accepted(messages, "h")))
            times = _wait_for(messages, lambda: list(gateway.arrivals), timeout=max(120.0, messages / 20))
    return _rate(times), len(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_notifier_dispatch", description=__doc__)
    parser.add_argument("--messages", type=int, default=5000, help="SMS per provider")
    options = parser.parse_args(argv)
    status = 0
    with tempfile.TemporaryDirectory(prefix="bench-notifier-") as directory:
        for kind, measure in (("outbox", measure_outbox), ("http", measure_http)):
            rate, sent = measure(Path(directory), options.messages)
            status |= 0 if sent == options.messages else 1
            label = f"notifier dispatch to the {'outbox' if kind == 'outbox' else 'local HTTP gateway'}"
            note = f"{sent:,} of {options.messages:,} SMS, first to last"
            record(Row(f"notifier_dispatch_{kind}", BENCHMARK, label, rate, "SMS/s", note=note))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

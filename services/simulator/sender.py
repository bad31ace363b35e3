"""Where generated events go: the ingest HTTP API (batch mode, retried with the same ids) or an NDJSON file."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Protocol

import httpx
import orjson

from services.simulator.envelopes import SimEvent

BATCH_MEDIA_TYPE = "application/cloudevents-batch+json"
RETRYABLE_STATUS = frozenset({429, 502, 503, 504})


@dataclass
class SendStats:
    events: int = 0  # events handed to the sink
    accepted: int = 0
    duplicates: int = 0
    retries: int = 0
    batches: int = 0


class EventSink(Protocol):
    """Where events go; used as `async with sink:`."""

    stats: SendStats
    on_sent: Callable[[int], None] | None

    async def send(self, events: Sequence[SimEvent]) -> None: ...

    async def __aenter__(self) -> EventSink: ...

    async def __aexit__(self, *_: object) -> None: ...


class SendError(Exception):
    """Ingest refused a batch for a reason retrying cannot fix (400/401/403/413/415/422)."""


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class HttpSender:
    """POSTs batches to ingest with at most `concurrency` requests in flight.

    A batch that gets 503/429/502/504 or a connection error is re-sent byte for byte (same event ids, so
    ingest deduplicates whatever was stored before the failure) after `Retry-After` or an exponential
    backoff with jitter, until `max_attempts` (None: forever, what a live simulator wants).
    """

    def __init__(
        self,
        url: str,
        key: str,
        *,
        batch_size: int = 500,
        concurrency: int = 4,
        timeout: float = 30.0,
        max_attempts: int | None = None,
        max_wait: float = 30.0,
        on_sent: Callable[[int], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        base = url.rstrip("/")
        self.url = base if base.endswith("/v1/events") else f"{base}/v1/events"
        self.batch_size = batch_size
        self.headers = {"content-type": BATCH_MEDIA_TYPE, "authorization": f"Bearer {key}"}
        self.max_attempts, self.max_wait, self.on_sent = max_attempts, max_wait, on_sent
        self.stats = SendStats()
        self._slots = asyncio.Semaphore(concurrency)
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._jitter = random.Random(0)

    async def __aenter__(self) -> HttpSender:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, events: Sequence[SimEvent]) -> None:
        """Send every event (in batches, several in flight); returns when ingest acknowledged all of them."""
        batches = [events[i : i + self.batch_size] for i in range(0, len(events), self.batch_size)]
        try:
            async with asyncio.TaskGroup() as group:
                for batch in batches:
                    await self._slots.acquire()
                    group.create_task(self._post_released(batch))
        except ExceptionGroup as failures:
            raise failures.exceptions[0] from None

    async def _post_released(self, batch: Sequence[SimEvent]) -> None:
        try:
            await self.post(batch)
        finally:
            self._slots.release()

    async def post(self, batch: Sequence[SimEvent]) -> None:
        body = orjson.dumps([event.document for event in batch])
        attempt = 0
        while True:
            attempt += 1
            wait: float | None
            try:
                response = await self._client.post(self.url, content=body, headers=self.headers)
            except httpx.TransportError as error:
                wait, reason = None, f"{type(error).__name__}: {error}"
            else:
                if response.status_code == 202:
                    self._count(batch, response)
                    return
                if response.status_code not in RETRYABLE_STATUS:
                    raise SendError(f"ingest answered {response.status_code}: {response.text[:2000]}")
                wait, reason = retry_after_seconds(response.headers.get("retry-after")), f"HTTP {response.status_code}"
            if self.max_attempts is not None and attempt >= self.max_attempts:
                raise SendError(f"gave up after {attempt} attempts ({reason})")
            self.stats.retries += 1
            backoff = min(self.max_wait, 0.25 * 2 ** min(attempt, 8)) * (0.5 + self._jitter.random())
            await asyncio.sleep(min(self.max_wait, wait) if wait is not None else backoff)

    def _count(self, batch: Sequence[SimEvent], response: httpx.Response) -> None:
        document = response.json()
        self.stats.batches += 1
        self.stats.events += len(batch)
        self.stats.accepted += int(document.get("accepted", 0))
        self.stats.duplicates += int(document.get("duplicates", 0))
        if self.on_sent is not None:
            self.on_sent(len(batch))


class NdjsonSink:
    """One CloudEvent per line (UTF-8), the format of `dvc-pulse import FILE` and the indicators backtest."""

    def __init__(self, path: Path, on_sent: Callable[[int], None] | None = None) -> None:
        self.path, self.on_sent = path, on_sent
        self.stats = SendStats()
        self._file: IO[bytes] | None = None

    async def __aenter__(self) -> NdjsonSink:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._file is not None:
            self._file.close()

    async def send(self, events: Sequence[SimEvent]) -> None:
        if self._file is None:
            raise RuntimeError("NdjsonSink used outside `async with`")
        self._file.write(b"".join(orjson.dumps(event.document) + b"\n" for event in events))
        self.stats.events += len(events)
        self.stats.accepted += len(events)
        if self.on_sent is not None:
            self.on_sent(len(events))

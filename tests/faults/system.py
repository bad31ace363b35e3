"""The system under fault: tests/e2e's System (the four services as separate processes, each with its own
database) on one nats-server or on a three-node cluster, with per-case settings, and a sender that retries
the way a producer must (same bytes, same ids) while the fault lasts."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import orjson

from services.ops.launcher_secrets import ensure_notifier_secrets, ensure_outbox_callback_token
from services.runtime.nats.embedded import EmbeddedNats, free_port
from services.runtime.nats.streams import apply_streams
from tests.e2e.processes import SERVICES, ServiceProcess, base_env, run_cli
from tests.e2e.system import SERVICE_SETTINGS, System
from tests.faults.cluster import NatsCluster

# On top of tests/e2e's settings: failed deliveries come back within seconds, the history's events are never
# too old to send an SMS, and a failed SMS is retried after a second (not 30 s).
FAULT_SETTINGS: dict[str, dict[str, str]] = {
    "indicators": {},
    "notifier": {
        "DVC_NOTIFIER_MAX_EVENT_AGE_HOURS": "480",
        "DVC_NOTIFIER_RETRY_BASE_SECONDS": "1",
        "DVC_NOTIFIER_RETRY_CAP_SECONDS": "2",
    },
    "tasks": {"DVC_TASKS_ACK_WAIT_SECONDS": "10"},
    "ingest": {},
}


def apply_streams_in_process(url: str, replicas: int, timeout: float = 60.0) -> None:
    """What `dvc-pulse streams apply [--replicas N]` does, without starting an interpreter; retried, because a
    cluster's nodes elect a JetStream meta leader a moment after they listen and until then the API fails."""

    async def apply() -> None:
        connection = await nats.connect(url.split(","), connect_timeout=2, max_reconnect_attempts=1)
        try:
            await apply_streams(connection.jetstream(), replicas=replicas)
        finally:
            await connection.close()

    deadline = time.monotonic() + timeout
    while True:
        try:
            asyncio.run(apply())
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@dataclass
class FaultSystem(System):
    """`cluster`: three nats-server nodes and R3 streams instead of one server. `settings`: extra environment
    per service (e.g. a database URL through a proxy, an SMS gateway)."""

    cluster: bool = False
    settings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    nodes: NatsCluster | None = None

    @property
    def nats_url(self) -> str:
        return self.nodes.url if self.nodes is not None else self.nats.url

    def start(self) -> None:
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        if self.cluster:
            self.nodes = NatsCluster(self.root)
            self.nodes.start()
        else:
            self.nats = EmbeddedNats(free_port(), self.root / "nats", self.root / "logs" / "nats.log")
            self.nats.start()
        env = base_env(self.var_dir, self.nats_url)
        apply_streams_in_process(self.nats_url, replicas=3 if self.cluster else 1)
        ensure_notifier_secrets(self.var_dir)  # as `make up` does: the notifier refuses to start without them
        ensure_outbox_callback_token(self.var_dir)
        with ThreadPoolExecutor(3) as pool:  # interpreter start-ups at once
            keys = [pool.submit(run_cli, env, service, "demo-key") for service in ("ingest", "notifier", "tasks")]
            self.key, self.operator_key, self.tasks_key = (key.result().strip() for key in keys)
        for name in SERVICES:
            prefix = f"DVC_{name.upper()}"
            port = free_port()
            settings = {
                f"{prefix}_PORT": str(port),
                **({f"{prefix}_DATABASE_URL": self.database_urls[name]} if name in self.database_urls else {}),
                **SERVICE_SETTINGS[name],
                **FAULT_SETTINGS[name],
                **self.settings.get(name, {}),
            }
            self.services[name] = ServiceProcess(name, port, {**env, **settings}, self.root / "logs" / f"{name}.log")
        for service in self.services.values():
            service.start()
        for service in self.services.values():
            service.wait_ready()

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()
        if self.nodes is not None:
            self.nodes.stop()
        else:
            self.nats.stop()

    def _jetstream_call(self, work: Any) -> Any:
        async def run() -> Any:
            connection = await nats.connect(self.nats_url.split(","), connect_timeout=2, max_reconnect_attempts=1)
            try:
                return await work(connection.jetstream())
            finally:
                await connection.close()

        return asyncio.run(run())

    def consumers_idle(self) -> bool:
        """Every durable consumer on DVC_EVENTS and DVC_ALERTS has nothing pending and nothing unacknowledged."""

        async def check(js: Any) -> bool:
            infos = [info for stream in ("DVC_EVENTS", "DVC_ALERTS") for info in await js.consumers_info(stream)]
            return bool(infos) and all(info.num_pending == 0 and info.num_ack_pending == 0 for info in infos)

        return bool(self._jetstream_call(check))

    def dead_letters(self) -> int:
        async def count(js: Any) -> int:
            return int((await js.stream_info("DVC_DLQ")).state.messages)

        return int(self._jetstream_call(count))

    def stored_events(self) -> int:
        async def count(js: Any) -> int:
            return int((await js.stream_info("DVC_EVENTS")).state.messages)

        return int(self._jetstream_call(count))


def post_once(system: System, batch: Sequence[Mapping[str, Any]]) -> httpx.Response:
    return httpx.post(
        system.url("ingest", "/v1/events"),
        content=orjson.dumps(list(batch)),
        headers={"Authorization": f"Bearer {system.key}", "Content-Type": "application/cloudevents-batch+json"},
        timeout=15,
    )


class RetryingSender:
    """Posts batches from a background thread, a pause between them; a batch that gets 503 (or any 5xx, or no
    answer) is re-sent byte for byte until ingest stores it (ingest deduplicates by source and id). Records
    every (source, id) ingest acknowledged, and how many answers were 503."""

    def __init__(
        self, system: System, batches: Sequence[Sequence[Mapping[str, Any]]], pause: float, deadline: float = 120.0
    ) -> None:
        self.system, self.batches, self.pause, self.deadline = system, batches, pause, deadline
        self.sent = 0  # batches acknowledged
        self.acknowledged: set[tuple[str, str]] = set()
        self.unavailable = 0  # 503 answers
        self.failures = 0  # other retried failures (connection refused, 5xx)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        stop_at = time.monotonic() + self.deadline
        try:
            for batch in self.batches:
                self._post(batch, stop_at)
                self.sent += 1
                time.sleep(self.pause)
        except BaseException as error:  # reported by running()
            self.error = error

    def _post(self, batch: Sequence[Mapping[str, Any]], stop_at: float) -> None:
        wait = 0.2
        while True:
            try:
                answer = post_once(self.system, batch)
            except httpx.HTTPError:
                self.failures += 1
            else:
                if answer.status_code == 202:
                    self.acknowledged.update((row["source"], row["id"]) for row in answer.json()["results"])
                    return
                if answer.status_code == 503:
                    self.unavailable += 1
                elif answer.status_code < 500:
                    raise AssertionError(f"ingest refused a batch: {answer.status_code} {answer.text[:500]}")
                else:
                    self.failures += 1
            if time.monotonic() > stop_at:
                raise AssertionError("ingest did not take the batch before the sender's deadline")
            time.sleep(wait)
            wait = min(2.0, wait * 2)

    @contextmanager
    def running(self) -> Iterator[RetryingSender]:
        self._thread.start()
        try:
            yield self
        finally:
            self._thread.join(timeout=self.deadline + 30)
        if self.error is not None:
            raise self.error

    def wait_sent(self, batches: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.sent < batches and self.error is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.sent >= batches, f"only {self.sent} batches sent within {timeout} s ({self.error!r})"


def sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1])

"""The whole system as separate processes: nats-server from the wheel, `dvc-pulse streams apply`, the four
`dvc-pulse serve <name>`, each on its own free port with its own database, and what a test reads from it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import nats
import orjson
from nats.aio.client import Client
from prometheus_client.parser import text_string_to_metric_families

from services.contracts.nats_users import ADMIN
from services.ops.launcher_secrets import ensure_notifier_secrets, ensure_outbox_callback_token
from services.runtime.nats.auth import NatsAuth
from services.runtime.nats.embedded import EmbeddedNats, free_port
from services.runtime.nats.embedded_secrets import EmbeddedSecrets, secured_nats
from tests.e2e.processes import SERVICES, ServiceProcess, base_env, run_cli

# Settings that make the outcome independent of when the test runs (see test_system.py).
SERVICE_SETTINGS: dict[str, dict[str, str]] = {
    "indicators": {
        "DVC_INDICATORS_SNAPSHOT_INTERVAL_SECONDS": "2",  # tasks and /metrics catch up within seconds
        "DVC_INDICATORS_ACK_WAIT_SECONDS": "10",  # what a killed instance held comes back after 10 s, not 60
    },
    "notifier": {
        "DVC_NOTIFIER_QUIET_HOURS": "00:00-00:00",  # never quiet: the test may run at night
        "DVC_NOTIFIER_MAX_EVENT_AGE_HOURS": "480",  # the simulated window is the last 14 days
        "DVC_NOTIFIER_CITIZEN_DAILY_CAP": "1000",  # caps count per local day of sending: off
        "DVC_NOTIFIER_DOSSIER_DAILY_CAP": "1000",
        "DVC_NOTIFIER_ACK_WAIT_SECONDS": "10",
        "DVC_NOTIFIER_SWEEP_INTERVAL_SECONDS": "1",  # queue-depth gauges refreshed every second
    },
    "tasks": {},
    "ingest": {},
}


@dataclass
class System:
    root: Path
    database_urls: Mapping[str, str]
    nats: EmbeddedNats = field(init=False)
    nats_secrets: EmbeddedSecrets = field(init=False)  # the users of `make up`: each service connects as its own
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    key: str = ""
    operator_key: str = ""
    tasks_key: str = ""
    extra_settings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # per service, over the above

    @property
    def var_dir(self) -> Path:
        return self.root / "var"

    @property
    def outbox(self) -> Path:
        return self.var_dir / "sms-outbox.jsonl"

    def start(self) -> None:
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        self.nats, self.nats_secrets = secured_nats(free_port(), self.var_dir, self.root / "logs" / "nats.log")
        self.nats.start()
        env = base_env(self.var_dir, self.nats.url)
        run_cli(env, "streams", "apply")  # as admin: the CLI finds the embedded server's secrets in var/
        ensure_notifier_secrets(self.var_dir)  # as `make up` does: the notifier refuses to start without them
        self.key = run_cli(env, "ingest", "demo-key").strip()
        self.operator_key = run_cli(env, "notifier", "demo-key").strip()
        self.tasks_key = run_cli(env, "tasks", "demo-key").strip()
        ensure_outbox_callback_token(self.var_dir)  # as `make up` does: the notifier refuses to start without it
        for name in SERVICES:
            settings = {
                f"DVC_{name.upper()}_PORT": str(free_port()),
                **(
                    {f"DVC_{name.upper()}_DATABASE_URL": self.database_urls[name]} if name in self.database_urls else {}
                ),
                **SERVICE_SETTINGS[name],
                **self.extra_settings.get(name, {}),
            }
            port = int(settings[f"DVC_{name.upper()}_PORT"])
            settings |= self.nats_secrets.environment(name)
            self.services[name] = ServiceProcess(name, port, {**env, **settings}, self.root / "logs" / f"{name}.log")
        for service in self.services.values():  # start together: imports and migrations overlap
            service.start()
        for service in self.services.values():
            service.wait_ready()

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()
        self.nats.stop()

    def url(self, service: str, path: str) -> str:
        return f"{self.services[service].url}{path}"

    def post(self, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        answer = httpx.post(
            self.url("ingest", "/v1/events"),
            content=orjson.dumps(list(events)),
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/cloudevents-batch+json"},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def indicators(self, start: datetime | None = None, end: datetime | None = None) -> dict[str, tuple[int, int]]:
        params = {} if start is None or end is None else {"from": start.isoformat(), "to": end.isoformat()}
        rows = httpx.get(self.url("indicators", "/v1/indicators"), params=params, timeout=10).json()
        return {row["code"]: (row["numerator"], row["denominator"]) for row in rows}

    def metric(self, service: str, name: str, **labels: str) -> float | None:
        """The sum of a metric's samples with these labels, None when there is none."""
        values = [
            value for sample_labels, value in self.samples(service, name) if labels.items() <= sample_labels.items()
        ]
        return sum(values) if values else None

    def samples(self, service: str, name: str) -> list[tuple[dict[str, str], float]]:
        text = httpx.get(self.url(service, "/metrics"), timeout=10).text
        return [
            (sample.labels, sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name
        ]

    def consumers_idle(self) -> bool:
        """Every durable consumer on DVC_EVENTS and DVC_ALERTS has nothing pending and nothing unacknowledged."""

        async def check() -> bool:
            connection = await self.admin()
            try:
                js = connection.jetstream()
                infos = [info for stream in ("DVC_EVENTS", "DVC_ALERTS") for info in await js.consumers_info(stream)]
            finally:
                await connection.close()
            return bool(infos) and all(info.num_pending == 0 and info.num_ack_pending == 0 for info in infos)

        return asyncio.run(check())

    def dead_letters(self) -> int:
        """Messages in DVC_DLQ (rejected or out of retries)."""

        async def count() -> int:
            connection = await self.admin()
            try:
                info = await connection.jetstream().stream_info("DVC_DLQ")
            finally:
                await connection.close()
            return int(info.state.messages)

        return asyncio.run(count())

    async def admin(self) -> Client:
        auth = NatsAuth(ADMIN, self.nats_secrets.passwords[ADMIN])
        return await nats.connect(self.nats.url, **auth.connect_options())

    def outbox_lines(self) -> list[dict[str, Any]]:
        if not self.outbox.exists():
            return []
        return [orjson.loads(line) for line in self.outbox.read_bytes().splitlines() if line.strip()]

    def notifications(self, **where: str) -> list[dict[str, Any]]:
        """The notifier's notifications with a status or of a dossier (texts included, phones masked)."""
        params = {**where, "limit": "1000"}
        headers = {"Authorization": f"Bearer {self.operator_key}"}
        answer = httpx.get(self.url("notifier", "/v1/notifications"), params=params, headers=headers, timeout=10)
        answer.raise_for_status()
        rows: list[dict[str, Any]] = answer.json()
        return rows

    def plan_indicators(self) -> dict[str, tuple[int | None, int | None]]:
        headers = {"Authorization": f"Bearer {self.tasks_key}"}
        rows = httpx.get(self.url("tasks", "/v1/plan/indicators"), headers=headers, timeout=10).json()
        return {
            row["live_code"]: (row["latest"]["numerator"], row["latest"]["denominator"])
            for row in rows
            if row["live_code"] and row["latest"]
        }


class PacedSender:
    """Posts batches from a background thread with a pause between them, so events keep flowing while the
    test kills and restarts services."""

    def __init__(self, system: System, batches: Sequence[Sequence[Mapping[str, Any]]], pause: float) -> None:
        self.system, self.batches, self.pause = system, batches, pause
        self.sent = 0
        self.answers: list[dict[str, Any]] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            for batch in self.batches:
                self.answers.append(self.system.post(batch))
                self.sent += 1
                time.sleep(self.pause)
        except BaseException as error:  # reported by join()
            self.error = error

    @contextmanager
    def running(self) -> Iterator[PacedSender]:
        self._thread.start()
        try:
            yield self
        finally:
            self._thread.join(timeout=120)
        if self.error is not None:
            raise self.error


def superseded_messages(system: System, unsent: Counter[tuple[str, str]]) -> Counter[tuple[str, str]]:
    """Expected messages not sent because a newer step of their dossier arrived first (docs/notifier.md, No stale
    SMS): events of days are posted within seconds, so which ones depends on the dispatcher's timing."""
    found: Counter[tuple[str, str]] = Counter()
    for code in sorted({code for code, _ in unsent}):
        for row in system.notifications(dossier_code=code, status="superseded"):
            found[(code, row["event_kind"].removeprefix("dossier."))] += 1
    return found & unsent

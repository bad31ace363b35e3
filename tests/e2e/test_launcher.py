"""`dvc-pulse up` (what `make up` runs): starts everything, stops everything on SIGINT, resumes its data."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest

from services.runtime.nats.embedded import free_port
from tests.e2e.processes import SERVICES, alive, base_env, child_pids, cli, wait_for
from tests.factories import dossier_event

pytestmark = pytest.mark.e2e


class Up:
    """One `dvc-pulse up --no-simulate` run in the background, its output in a file."""

    def __init__(self, var_dir: Path, nats_port: int, ports: dict[str, int]) -> None:
        self.var_dir, self.ports = var_dir, ports
        env_ports = {f"DVC_{name.upper()}_PORT": str(port) for name, port in ports.items()}
        self.env = base_env(var_dir, DVC_EMBEDDED_NATS_PORT=str(nats_port), **env_ports)
        self.output = var_dir.parent / f"up-{nats_port}.out"
        self.process: subprocess.Popen[bytes] | None = None
        self.offset = 0

    def start(self) -> None:
        self.offset = self.output.stat().st_size if self.output.exists() else 0
        with open(self.output, "ab") as out:
            self.process = subprocess.Popen(cli("up", "--no-simulate"), env=self.env, stdout=out, stderr=out)

    def text(self) -> str:
        """The output of the latest run."""
        return self.output.read_bytes()[self.offset :].decode(errors="replace")

    def wait_running(self) -> None:
        def running() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"dvc-pulse up exited with {self.process.returncode}:\n{self.text()}")
            return "DVC Pulse is running" in self.text()

        wait_for(running, 120, "the launcher's banner")

    def interrupt(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    launcher = Up(tmp_path / "var", free_port(), {name: free_port() for name in (*SERVICES, "console")})
    yield launcher
    if launcher.process is not None and launcher.process.poll() is None:  # a failed test: leave nothing behind
        leftovers = child_pids(launcher.process.pid)
        launcher.process.kill()
        launcher.process.wait()
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _accepted_event() -> dict[str, object]:
    now = datetime.now(UTC).replace(microsecond=0)
    return dossier_event(
        "dossier.accepted",
        "000.00.30.H04-E2E-LAUNCHER",
        time=now.isoformat(),
        due_at=(now + timedelta(days=10)).isoformat(),
        event_id="e2e-launcher-accepted",
    )


def _accepted_count(port: int) -> int:
    rows = httpx.get(f"http://127.0.0.1:{port}/v1/indicators", timeout=5).json()
    return int(next(row["denominator"] for row in rows if row["code"] == "I20"))


def test_every_child_stops_and_the_data_stays_when_the_launcher_is_interrupted_restarted_and_killed(up: Up) -> None:
    up.start()
    up.wait_running()
    assert up.process is not None
    children = child_pids(up.process.pid)
    for name, port in up.ports.items():
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200, name
        assert f"http://127.0.0.1:{port}/metrics" in up.text(), name  # whole, though the output is a file
    key = (up.var_dir / "demo-ingest-key").read_text().strip()
    assert key in up.text()
    assert (up.var_dir / "demo-tasks-admin-key").read_text().strip() in up.text()
    assert (up.var_dir / "notifier-encryption.key").stat().st_size > 0
    operator_key = (up.var_dir / "demo-notifier-key").read_text().strip()
    assert operator_key in up.text()
    notifications = f"http://127.0.0.1:{up.ports['notifier']}/v1/notifications"
    assert httpx.get(notifications, timeout=5).status_code == 401
    assert httpx.get(notifications, headers={"Authorization": f"Bearer {operator_key}"}, timeout=5).status_code == 200
    answer = httpx.post(
        f"http://127.0.0.1:{up.ports['ingest']}/v1/events",
        content=orjson.dumps(_accepted_event()),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/cloudevents+json"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    wait_for(lambda: _accepted_count(up.ports["indicators"]) == 1, 60, "the event in the indicators")

    assert up.interrupt() == 0
    assert len(children) >= 5  # nats-server and the four services
    assert [pid for pid in children if alive(pid)] == []
    assert "Stopped." in up.text()

    up.start()
    up.wait_running()
    assert (up.var_dir / "demo-ingest-key").read_text().strip() == key
    assert _accepted_count(up.ports["indicators"]) == 1
    children = child_pids(up.process.pid)
    up.process.kill()  # even a SIGKILLed launcher leaves nothing behind: its children get SIGTERM
    up.process.wait()
    wait_for(lambda: not [pid for pid in children if alive(pid)], 60, "the orphans to stop")


def test_nothing_starts_when_a_port_is_taken(up: Up) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", up.ports["notifier"]))
        taken.listen()
        up.start()
        assert up.process is not None
        assert up.process.wait(timeout=60) == 1
    assert f"notifier {up.ports['notifier']}" in up.text()
    assert not (up.var_dir / "nats").exists()

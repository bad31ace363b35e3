"""Real processes for the end-to-end tests: the `dvc-pulse` entry points, readiness, and the process tree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

SERVICES = ("ingest", "indicators", "tasks", "notifier")


def cli(*args: str) -> list[str]:
    """The `dvc-pulse` console script of this venv (run as a module, so no PATH lookup)."""
    return [sys.executable, "-m", "services.ops.cli", *args]


def run_cli(env: Mapping[str, str], *args: str, timeout: float = 120.0) -> str:
    result = subprocess.run(cli(*args), env=dict(env), capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"dvc-pulse {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.25) -> Any:
    """Poll `condition` until it returns a truthy value; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (httpx.HTTPError, OSError, ValueError, KeyError) as error:
            last_error, value = error, None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error!r})")


def ready(port: int) -> bool:
    return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2.0).status_code == 200


@dataclass
class ServiceProcess:
    """`dvc-pulse serve <name>` with its own port, database and log file."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = field(default=0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"---- start #{self.starts}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                cli("serve", self.name), env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )

    def wait_ready(self, timeout: float = 90.0) -> None:
        def check() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            return ready(self.port)

        wait_for(check, timeout, f"{self.name} to be ready")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed or acknowledged."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def child_pids(pid: int) -> set[int]:
    """Every live descendant of `pid` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in parents.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def base_env(var_dir: Path, nats_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a child: this venv, the test's var dir, no DVC_* setting inherited from the shell."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DVC_")}
    env["DVC_VAR_DIR"] = str(var_dir)
    env["PYTHONUNBUFFERED"] = "1"
    if nats_url:
        env["DVC_NATS_URL"] = nats_url
    env.update(extra)
    return env

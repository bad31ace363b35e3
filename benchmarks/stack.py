"""The whole stack for the end-to-end benchmarks: `dvc-pulse up --no-simulate` (embedded NATS with its users,
the streams, every service) in a temporary var directory, every port free, one ingest key without rate limits,
quiet hours off. `peak_rss_mb()` reads each child's high-water mark (VmHWM) before `stop()`."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx
import orjson

from services.ops.launcher import SERVICE_PORTS
from services.runtime.nats.embedded import free_port

KEY = "dvcik_benchmark-stack-key"
READY_SERVICES = ("ingest", "indicators", "notifier", "tasks")


class Stack:
    def __init__(self, var_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.var_dir = var_dir
        self.ports = {name: free_port() for name in SERVICE_PORTS}
        self.nats_port = free_port()
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.peak_rss: dict[str, float] = {}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def outbox(self) -> Path:
        return self.var_dir / "sms-outbox.jsonl"

    @property
    def ingest_headers(self) -> dict[str, str]:
        return {"content-type": "application/cloudevents-batch+json", "authorization": f"Bearer {KEY}"}

    def _environment(self) -> dict[str, str]:
        key = [{"name": "bench", "sha256": hashlib.sha256(KEY.encode()).hexdigest(), "sources": ["urn:dvc:*"]}]
        return {
            **os.environ,
            "DVC_VAR_DIR": str(self.var_dir),
            "DVC_EMBEDDED_NATS_PORT": str(self.nats_port),
            **{f"DVC_{name.upper()}_PORT": str(port) for name, port in self.ports.items()},
            "DVC_INGEST_KEYS": orjson.dumps(key).decode(),
            "DVC_INGEST_RATE_LIMIT_PER_SECOND": "100000",
            "DVC_INGEST_RATE_LIMIT_BURST": "100000",
            "DVC_NOTIFIER_QUIET_HOURS": "00:00-00:00",  # the SMS target holds outside quiet hours
            **self.extra_env,
        }

    def start(self, timeout: float = 180.0) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "services.ops.cli", "up", "--no-simulate", "--nats-port", str(self.nats_port)]
        with open(self.var_dir / "launcher.log", "ab") as log:
            self.process = subprocess.Popen(command, env=self._environment(), stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        waiting = set(READY_SERVICES)
        while waiting:
            if self.process.poll() is not None:
                raise RuntimeError(f"the stack exited with {self.process.returncode}; see {self.var_dir}/logs")
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f} s: {', '.join(sorted(waiting))}")
            for name in list(waiting):
                try:
                    if httpx.get(f"{self.url(name)}/readyz", timeout=2.0).status_code == 200:
                        waiting.discard(name)
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)

    def children(self) -> dict[str, int]:
        """Service name (or `nats`) -> pid of the launcher's children."""
        if self.process is None:
            return {}
        found: dict[str, int] = {}
        for task in Path(f"/proc/{self.process.pid}/task").glob("*"):
            for pid in (task / "children").read_text().split():
                arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                name = "nats" if b"nats-server" in arguments[0] else arguments[-2].decode()
                found[name] = int(pid)
        return found

    def peak_rss_mb(self) -> dict[str, float]:
        """VmHWM of every child (services and nats-server) in MB, while they run."""
        return {name: high_water_mb(pid) for name, pid in self.children().items()}

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.peak_rss = self.peak_rss_mb()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def high_water_mb(pid: int) -> float:
    """A running process's peak RSS (VmHWM) in MB; 0 once it has exited."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in lines if line.startswith("VmHWM:")), 0.0)

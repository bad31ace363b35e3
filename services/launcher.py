"""`make up`: embedded NATS, the streams, every service that exists and the simulator, as child processes.

Ctrl-C (or SIGTERM) stops the children in reverse order and leaves no process behind. Data lives under
`var/`, so a second `make up` resumes where the first stopped.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx
from rich.console import Console
from rich.table import Table

from services.runtime.embedded_nats import EmbeddedNats, port_open

SERVICE_PORTS = {"ingest": 8081, "indicators": 8082, "tasks": 8083, "notifier": 8084}
console = Console()


@dataclass
class Child:
    name: str
    args: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0


class Launcher:
    def __init__(self, nats_port: int, simulate: bool, var_dir: Path | None = None) -> None:
        self.var_dir = (var_dir or Path(os.environ.get("DVC_VAR_DIR", "var"))).resolve()
        self.nats = EmbeddedNats(nats_port, self.var_dir / "nats", self.var_dir / "logs" / "nats.log")
        self.simulate = simulate
        self.children: list[Child] = []
        self.stopping = False

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DVC_NATS_URL": self.nats.url, "DVC_VAR_DIR": str(self.var_dir)}

    def run(self) -> int:
        (self.var_dir / "logs").mkdir(parents=True, exist_ok=True)
        if port_open("127.0.0.1", self.nats.port):
            console.print(f"[red]Port {self.nats.port} is taken: is another `make up` running?[/red]")
            return 1
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            self.nats.start()
            console.print(f"NATS JetStream on {self.nats.url} (store {self.nats.store_dir})")
            self._cli("streams", "apply")
            if self._exists("ingest"):
                self._cli("ingest", "demo-key")
            for name in SERVICE_PORTS:
                if self._exists(name):
                    self._start(Child(name, self._cli_args("serve", name), self._log(name)))
            self._wait_healthy()
            self._print_urls()
            if self.simulate and importlib.util.find_spec("services.simulator.cli") is not None:
                self._start(Child("simulator", self._cli_args("simulate", "--live"), self._log("simulator")))
            self._supervise()
        finally:
            self._stop_all()
        return 0

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def _exists(self, service: str) -> bool:
        return importlib.util.find_spec(f"services.{service}.main") is not None

    def _log(self, name: str) -> Path:
        return self.var_dir / "logs" / f"{name}.log"

    def _cli_args(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "services.cli", *args]

    def _cli(self, *args: str) -> None:
        subprocess.run(self._cli_args(*args), env=self.env, check=True)

    def _start(self, child: Child) -> None:
        with open(child.log_path, "ab") as log:
            child.process = subprocess.Popen(child.args, env=self.env, stdout=log, stderr=log)
        if child not in self.children:
            self.children.append(child)

    def _wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for child in self.children:
            url = f"http://127.0.0.1:{SERVICE_PORTS[child.name]}/healthz"
            while not self.stopping and time.monotonic() < deadline:
                if child.process is not None and child.process.poll() is not None:
                    console.print(f"[red]{child.name} exited; see {child.log_path}[/red]")
                    break
                try:
                    if httpx.get(url, timeout=1.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)

    def _print_urls(self) -> None:
        table = Table(title="DVC Pulse is running (Ctrl-C stops everything)")
        table.add_column("service")
        table.add_column("URL")
        table.add_column("log")
        for child in self.children:
            port = SERVICE_PORTS[child.name]
            table.add_row(child.name, f"http://127.0.0.1:{port}/docs", str(child.log_path))
        console.print(table)
        key_file = self.var_dir / "demo-ingest-key"
        if key_file.exists():
            console.print(f"Demo ingest key ({key_file}): [bold]{key_file.read_text().strip()}[/bold]")

    def _supervise(self) -> None:
        while not self.stopping:
            for child in self.children:
                process = child.process
                if process is None or process.poll() is None or self.stopping:
                    continue
                if child.name == "simulator" and process.returncode == 0:
                    continue
                child.restarts += 1
                console.print(
                    f"[yellow]{child.name} exited with {process.returncode}; restart #{child.restarts} "
                    f"(log: {child.log_path})[/yellow]"
                )
                time.sleep(min(30, 2**child.restarts))
                self._start(child)
            time.sleep(0.5)

    def _stop_all(self) -> None:
        console.print("Stopping...")
        for child in reversed(self.children):
            if child.process is not None and child.process.poll() is None:
                child.process.terminate()
        for child in reversed(self.children):
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        self.nats.stop()
        console.print("Stopped.")

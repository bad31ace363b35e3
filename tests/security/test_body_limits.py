"""Limits before parsing: the key is checked and the size capped before a body is read, on every service.

The memory tests run `dvc-pulse serve tasks` under uvicorn in a subprocess (no NATS needed: tasks starts without
it) and stream 200 MiB to it from a generator over a raw socket, reading the answer while sending."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from services.runtime.nats.embedded import free_port
from tests.e2e.processes import wait_for
from tests.security.apps import BUILDERS, OUTBOX_TOKEN, UNREACHABLE_NATS, Keys, tasks_app

MIB = 1024 * 1024
CHUNK = b"x" * (64 * 1024)
BROKEN_JSON = b'{"id": "BS.9", "title": '


def _client(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://limits")


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("tasks", "/v1/tasks"),
        ("notifier", "/v1/opt-outs"),
        ("notifier", "/v1/inbound/outbox"),
        ("ingest", "/v1/events"),
    ],
)
async def test_broken_json_gets_401_not_422_when_no_key_is_sent(service: str, path: str, tmp_path: Path) -> None:
    app, _keys = BUILDERS[service](tmp_path)
    async with _client(app) as client:
        answer = await client.post(path, content=BROKEN_JSON, headers={"content-type": "application/json"})

    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_body_over_the_cap_gets_413_problem_when_content_length_says_so(tmp_path: Path) -> None:
    app, keys = tasks_app(tmp_path, max_body_bytes=1000)
    assert isinstance(keys, Keys)
    async with _client(app) as client:
        declared = await client.post("/v1/tasks", content=b"{" + b" " * 2000 + b"}", headers=keys.headers["right"])

    assert declared.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"
    assert declared.json()["max_bytes"] == 1000


async def test_a_streamed_body_over_the_cap_gets_413_when_no_content_length_is_sent(tmp_path: Path) -> None:
    app, keys = tasks_app(tmp_path, max_body_bytes=100_000)
    assert isinstance(keys, Keys)
    sent: list[int] = []

    async def chunks() -> object:
        for _ in range(1000):  # 64 MiB if it were all read
            sent.append(len(CHUNK))
            yield CHUNK

    async with _client(app) as client:
        answer = await client.post("/v1/tasks", content=chunks(), headers=keys.headers["right"])  # type: ignore[arg-type]

    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert sum(sent) < 1 * MIB  # the app stopped reading just past the cap


async def test_ingest_takes_its_own_cap_for_events_when_it_passes_one(tmp_path: Path) -> None:
    app, keys = BUILDERS["ingest"](tmp_path, max_body_bytes=2000)
    assert isinstance(keys, Keys)
    body = orjson.dumps([{"padding": "x" * 3000}])
    async with _client(app) as client:
        answer = await client.post(
            "/v1/events", content=body, headers={**keys.headers["right"], "content-type": "application/json"}
        )

    assert answer.status_code == 413
    assert answer.json()["max_bytes"] == 2000


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")


@pytest.fixture
def tasks_server(tmp_path: Path) -> Iterator[Server]:
    if not Path("/proc/self/status").exists():
        pytest.skip("reads the server's RSS from /proc (Linux)")
    tasks_app(tmp_path)  # writes the keys file
    port = free_port()
    env = {
        **os.environ,
        "DVC_VAR_DIR": str(tmp_path),
        "DVC_NATS_URL": UNREACHABLE_NATS,
        "DVC_TASKS_PORT": str(port),
        "DVC_TASKS_LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "tasks.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.ops.cli", "serve", "tasks"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        wait_for(lambda: httpx.get(url, timeout=2).status_code == 200, 90, "tasks /healthz")
        yield Server(process, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def stream_until_answered(port: int, headers: dict[str, str], total: int) -> tuple[int | None, int]:
    """POST /v1/tasks with `total` bytes in chunked encoding, reading the answer between chunks; returns the
    status (None if the server closed without one) and how many body bytes were sent before it answered."""
    head = "POST /v1/tasks HTTP/1.1\r\nHost: limits\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head.encode())
        frame = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n"
        while sent < total:
            readable, _, _ = select.select([connection], [], [], 0)
            if readable:
                break
            try:
                connection.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(CHUNK)
        answer = connection.recv(4096)
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
    return status, sent


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("case", "expected"), [("no key", 401), ("right key", 413)])
def test_a_200_mib_streamed_body_is_refused_at_once_and_the_server_grows_under_20_mb_when_sent(
    tasks_server: Server, case: str, expected: int
) -> None:
    headers = {"Authorization": "Bearer dvctk_right"} if case == "right key" else {}
    httpx.get(f"http://127.0.0.1:{tasks_server.port}/v1/plans", timeout=10)  # warm up the request path
    before = tasks_server.rss_bytes()

    status, sent = stream_until_answered(tasks_server.port, headers, 200 * MIB)
    after = tasks_server.rss_bytes()

    assert status == expected
    assert sent < 20 * MIB, f"the server answered only after {sent / MIB:.0f} MiB"
    assert after - before < 20 * MIB, f"server RSS grew by {(after - before) / MIB:.1f} MiB"


@pytest.mark.parametrize("path", ["/v1/receipts/outbox", "/v1/inbound/outbox"])
async def test_a_provider_callback_body_over_the_cap_gets_413_when_streamed_with_the_right_token(
    path: str, tmp_path: Path
) -> None:
    app, _keys = BUILDERS["notifier"](tmp_path, max_body_bytes=1000)
    sent: list[int] = []

    async def chunks() -> object:
        for _ in range(100):
            sent.append(len(CHUNK))
            yield CHUNK

    headers = {"Authorization": f"Bearer {OUTBOX_TOKEN}", "content-type": "application/json"}
    async with _client(app) as client:
        answer = await client.post(path, content=chunks(), headers=headers)  # type: ignore[arg-type]

    assert answer.status_code == 413
    assert answer.json()["max_bytes"] == 1000
    assert sum(sent) <= 2 * len(CHUNK)

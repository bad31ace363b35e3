"""A real HTTP SMS gateway for tests: a ThreadingHTTPServer on a free port that records every request and
answers what the test scripted (success, 4xx/5xx, a gateway error code, or a delay longer than the timeout)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    delay_seconds: float = 0.0
    drop: bool = False  # read the request, then close the connection without answering


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class GatewayStub:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    default: Reply = field(default_factory=lambda: Reply(200, {"CodeResult": "100", "SMSID": "auto"}))
    script: list[Reply] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: int = 0

    def next_reply(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            self._counter += 1
            reply = self.script.pop(0) if self.script else self.default
            if isinstance(reply.body, dict) and reply.body.get("SMSID") == "auto":
                return Reply(
                    reply.status, {**reply.body, "SMSID": f"gw-{self._counter}"}, reply.delay_seconds, reply.drop
                )
            return reply


def _handler(stub: GatewayStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.loads(raw.decode("utf-8")) if raw else None
            reply = stub.next_reply(Recorded(self.command, self.path, dict(self.headers.items()), body))
            if reply.drop:
                self.close_connection = True
                return
            if reply.delay_seconds:
                time.sleep(reply.delay_seconds)
            payload = json.dumps(reply.body).encode() if reply.body is not None else b""
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (timeout test)

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def running_gateway(default: Reply | None = None) -> Iterator[GatewayStub]:
    stub = GatewayStub()
    if default is not None:
        stub.default = default
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/api/send"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

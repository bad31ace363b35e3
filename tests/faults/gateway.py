"""A local SMS gateway (eSMS-like JSON API) that follows a script of behaviours, one per request: failing
(HTTP 500), timing out after accepting, answering late, then behaving. Scripted by request count, not by
time, so each behaviour is met whatever the machine's speed. Like a real aggregator it de-duplicates by
RequestId: a retry of an accepted request is answered again but reaches the phone once."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from services.runtime.nats.embedded import free_port

MODES = ("ok", "fail", "timeout", "late")


class SmsGateway:
    def __init__(self, client_timeout: float) -> None:
        self.port = free_port()
        self.client_timeout = client_timeout
        self.script: list[list[Any]] = []  # [[mode, requests left], ...], then "ok"
        self.modes_seen: dict[str, int] = {}
        self.requests = 0
        self.delivered: dict[str, dict[str, Any]] = {}  # RequestId -> what reached the phone
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.delivered.values())

    def follow(self, *steps: tuple[str, int]) -> None:
        assert all(mode in MODES for mode, _ in steps)
        with self._lock:
            self.script = [[mode, count] for mode, count in steps]

    def _next_mode(self) -> str:
        if not self.script:
            return "ok"
        mode = str(self.script[0][0])
        self.script[0][1] -= 1
        if self.script[0][1] <= 0:
            self.script.pop(0)
        return mode

    def _answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
        """(HTTP status, answer, delay before answering) for one request, as the script says."""
        with self._lock:
            mode = self._next_mode()
            self.modes_seen[mode] = self.modes_seen.get(mode, 0) + 1
            self.requests += 1
            if mode == "fail":
                return 500, {"CodeResult": "99", "ErrorMessage": "gateway down"}, 0.0
            request_id = str(body["RequestId"])
            self.delivered.setdefault(
                request_id, {"notification_id": request_id, "to": body["Phone"], "text": body["Content"]}
            )
        delay = {"timeout": self.client_timeout * 2, "late": self.client_timeout / 4}.get(mode, 0.0)
        return 200, {"CodeResult": "100", "SMSID": f"gw-{request_id}"}, delay

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                status, answer, delay = gateway._answer(orjson.loads(self.rfile.read(length)))
                time.sleep(delay)  # the gateway's own slowness (an accepted request answered late or never)
                payload = orjson.dumps(answer)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler

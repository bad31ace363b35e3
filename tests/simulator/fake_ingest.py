"""A real local HTTP server standing in for ingest: scripted answers, every request body recorded."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Script:
    """Answers given in order (the last one repeats): (status, headers)."""

    answers: list[tuple[int, dict[str, str]]]
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self) -> tuple[int, dict[str, str]]:
        with self.lock:
            index = min(len(self.requests) - 1, len(self.answers) - 1)
            return self.answers[index]


@contextmanager
def fake_ingest(script: Script) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            events = json.loads(body)
            with script.lock:
                script.requests.append(
                    {
                        "path": self.path,
                        "content_type": self.headers["content-type"],
                        "authorization": self.headers["authorization"],
                        "ids": [event["id"] for event in events],
                    }
                )
            status, headers = script.next_answer()
            if status == 202:
                payload = {"accepted": len(events), "duplicates": 0, "results": []}
                content_type = "application/json"
            else:
                payload = {"title": "unavailable", "status": status, "detail": "scripted failure"}
                content_type = "application/problem+json"
            data = json.dumps(payload).encode()
            self.send_response(status)
            for name, value in {**headers, "content-type": content_type}.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()

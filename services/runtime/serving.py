"""Run an ASGI app under uvicorn (one worker: services scale by process, not by thread)."""

from __future__ import annotations

import uvicorn
from starlette.types import ASGIApp


def serve(app: ASGIApp, host: str, port: int, log_level: str = "warning") -> None:
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=10,
        lifespan="on",
    )

"""Run an ASGI app under uvicorn (one worker: services scale by process, not by thread)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp


def app_or_exit(service: str, build: Callable[[], ASGIApp], refused: type[Exception]) -> ASGIApp:
    """The app `build` makes, or exit status 2 with one line on stderr saying why the service cannot start (a
    configuration it refuses, rather than a traceback)."""
    try:
        return build()
    except refused as error:
        print(f"{service}: cannot start: {error}", file=sys.stderr)
        raise SystemExit(2) from None


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

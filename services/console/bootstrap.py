"""Wiring of the console: the operator dashboard and the citizen lookup, reading the other services' APIs."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CollectorRegistry

from services.console.adapters.sessions import SessionStore
from services.console.adapters.upstream import Upstreams
from services.console.entrypoints.citizen import build_citizen_router
from services.console.entrypoints.pages import ConsoleConfig, build_console_router
from services.console.settings import MissingLookupKey, Settings
from services.runtime.app import build_service_app
from services.runtime.attempts import AttemptLimiter
from services.runtime.health import ReadinessCheck
from services.runtime.http_limits import RateLimit
from services.runtime.logging import configure_logging
from services.runtime.serving import app_or_exit, serve

HERE = Path(__file__).parent


def _console_config(settings: Settings, urls: dict[str, str], lookup_key: str) -> ConsoleConfig:
    docs_links = {
        name: _docs_url(url, settings.docs_base_url) for name, url in {**urls, "ingest": settings.ingest_url}.items()
    }
    return ConsoleConfig(
        refresh_seconds=settings.refresh_seconds,
        docs_links=dict(sorted(docs_links.items())),
        secure_cookies=settings.secure_cookies,
        session_seconds=settings.session_hours * 3600,
        notifier_key=lookup_key,
        timezone=settings.timezone,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    lookup_key = settings.lookup_key()
    urls = {
        "indicators": settings.indicators_url.rstrip("/"),
        "tasks": settings.tasks_url.rstrip("/"),
        "notifier": settings.notifier_url.rstrip("/"),
    }
    upstreams = Upstreams(urls, settings.upstream_timeout_seconds)
    templates = Jinja2Templates(directory=HERE / "templates")
    config = _console_config(settings, urls, lookup_key)
    window = settings.lookup_window_seconds

    async def close_upstreams(stack: AsyncExitStack) -> None:
        stack.push_async_callback(upstreams.close)

    app = build_service_app(
        service="console",
        title="DVC Pulse console",
        description="Operator console and citizen lookup (/tra-cuu); reads the indicators, tasks and notifier APIs.",
        broker=None,
        registry=CollectorRegistry(),
        checks={"indicators": _reachable(urls["indicators"])},
        routers=[
            build_console_router(templates, upstreams, SessionStore(settings.session_hours * 3600), config),
            build_citizen_router(
                templates,
                upstreams,
                lookup_key,
                settings.timezone,
                per_client=AttemptLimiter(settings.lookup_attempts_per_client, window),
                per_dossier=AttemptLimiter(settings.lookup_attempts_per_dossier, window),
            ),
        ],
        max_body_bytes=16 * 1024,
        rate_limit=RateLimit(settings.rate_limit_per_second, settings.rate_limit_burst),
        on_startup=[close_upstreams],
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app


def _docs_url(api_url: str, docs_base_url: str) -> str:
    if not docs_base_url:
        return api_url.rstrip("/") + "/docs"
    port = httpx.URL(api_url).port
    return f"{docs_base_url.rstrip('/')}:{port}/docs" if port else docs_base_url.rstrip("/") + "/docs"


def _reachable(url: str) -> ReadinessCheck:
    async def check() -> str | None:
        try:
            async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
                response = await client.get(url + "/healthz")
        except httpx.HTTPError as error:
            return f"{url}: {type(error).__name__}"
        return None if response.status_code == 200 else f"{url}: HTTP {response.status_code}"

    return check


def run() -> None:
    settings = Settings()
    app = app_or_exit("console", lambda: create_app(settings), MissingLookupKey)
    serve(app, settings.host, settings.port, settings.log_level)

"""Build a service's FastAPI app the same way everywhere: problem+json errors, ops routes, HTTP metrics,
the broker's lifecycle and its AsyncAPI document."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, suppress
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from services.runtime.api_docs import install_offline_docs
from services.runtime.health import ReadinessCheck, database_check, nats_check, ops_router, streams_check
from services.runtime.http_limits import LimitsMiddleware, RateLimit, install_limit_handlers
from services.runtime.http_metrics import HttpMetricsMiddleware
from services.runtime.nats.asyncapi import specification
from services.runtime.nats.batch_consumer import BatchConsumer
from services.runtime.nats.broker import current_connection
from services.runtime.nats.consumer_watch import ConsumerMonitor
from services.runtime.problems import UnhandledErrorMiddleware, install_problem_handlers

logger = logging.getLogger("dvc_pulse.app")


def build_service_app(
    *,
    service: str,
    title: str,
    description: str,
    broker: NatsBroker | None,
    registry: CollectorRegistry,
    checks: Mapping[str, ReadinessCheck] | None = None,
    streams: Sequence[str] = (),
    engine: AsyncEngine | None = None,
    migrate: Callable[[], Awaitable[None]] | None = None,
    batch_consumers: Sequence[BatchConsumer] = (),
    monitor: ConsumerMonitor | None = None,
    routers: Sequence[APIRouter] = (),
    on_startup: Sequence[Callable[[AsyncExitStack], Awaitable[None]]] = (),
    connect_in_background: bool = False,
    max_body_bytes: int = 1024 * 1024,
    body_limits: Mapping[str, int] | None = None,
    rate_limit: RateLimit | None = None,
) -> FastAPI:
    """Start-up: the broker connects, `migrate` runs (the engine is disposed at shutdown), the `on_startup`
    steps run (each may push its cleanup onto the exit stack), then the `batch_consumers` start: no consumer
    applies a batch before the migrations ran. Shutdown stops them first.

    `/readyz` checks NATS (with a broker), the `streams` (which must exist), the database (with an `engine`),
    the consumers stuck in `monitor` (the monitor the service's consumers report to, whose pending gauges a
    task refreshes), and any other `checks`.

    Every request first meets `LimitsMiddleware`: the route's key guard, `rate_limit` per key on writes, and the
    body cap (`max_body_bytes`, or the route's own in `body_limits`, by path template).

    With `connect_in_background`, start-up does not wait for NATS: the broker connects (and keeps retrying) in a
    background task, the app serves at once, and the start-up steps run before the broker is connected.
    """
    steps = list(on_startup)
    if monitor is not None and broker is not None:
        steps.append(_refreshing(monitor, broker))
    lifespan = _lifespan(broker, connect_in_background, engine, migrate, steps, batch_consumers)
    app = FastAPI(title=title, description=description, version="1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    _install_http(app, service, registry, routers, max_body_bytes, body_limits, rate_limit)
    app.include_router(ops_router(_readiness_checks(broker, streams, engine, monitor, checks or {}), registry))
    for router in routers:
        app.include_router(router)
    if broker is not None:
        _add_asyncapi(app, title, broker, batch_consumers)
    return app


def _readiness_checks(
    broker: NatsBroker | None,
    streams: Sequence[str],
    engine: AsyncEngine | None,
    monitor: ConsumerMonitor | None,
    checks: Mapping[str, ReadinessCheck],
) -> dict[str, ReadinessCheck]:
    found: dict[str, ReadinessCheck] = {}
    if broker is not None:
        found["nats"] = nats_check(broker)
        if streams:
            found["streams"] = streams_check(broker, list(streams))
    if engine is not None:
        found["database"] = database_check(engine)
    found.update(checks)
    if monitor is not None:
        found["consumers"] = monitor.check
    return found


def _lifespan(
    broker: NatsBroker | None,
    connect_in_background: bool,
    engine: AsyncEngine | None,
    migrate: Callable[[], Awaitable[None]] | None,
    steps: Sequence[Callable[[AsyncExitStack], Awaitable[None]]],
    batch_consumers: Sequence[BatchConsumer],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if broker is not None and connect_in_background:
                await stack.enter_async_context(_started_in_background(broker))
            elif broker is not None:
                await broker.start()
                stack.push_async_callback(broker.stop)
            if engine is not None:
                stack.push_async_callback(engine.dispose)
            if migrate is not None:
                await migrate()
            for step in steps:
                await step(stack)
            for consumer in batch_consumers:
                await consumer.start()
                stack.push_async_callback(consumer.stop)
            yield

    return lifespan


def _install_http(
    app: FastAPI,
    service: str,
    registry: CollectorRegistry,
    routers: Sequence[APIRouter],
    max_body_bytes: int,
    body_limits: Mapping[str, int] | None,
    rate_limit: RateLimit | None,
) -> None:
    install_offline_docs(app)  # /docs and /redoc from packaged assets, no CDN
    install_problem_handlers(app)
    install_limit_handlers(app)
    app.add_middleware(
        LimitsMiddleware,
        routes=[route for router in routers for route in router.routes],
        max_body_bytes=max_body_bytes,
        body_limits=body_limits,
        rate_limit=rate_limit,
    )  # added first: inside the metrics middleware, which then counts its 401/413/429 too
    app.add_middleware(UnhandledErrorMiddleware)  # around the limits, inside the metrics: they count its 500
    app.add_middleware(HttpMetricsMiddleware, registry=registry, service=service)


@asynccontextmanager
async def _started_in_background(broker: NatsBroker, retry_seconds: float = 2.0) -> AsyncIterator[None]:
    async def start_until_connected() -> None:
        while True:
            try:
                await broker.start()
                return
            except Exception:
                logger.warning("cannot start the NATS broker; retrying in %.0f s", retry_seconds, exc_info=True)
                await asyncio.sleep(retry_seconds)

    task = asyncio.create_task(start_until_connected(), name="broker-start")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        try:
            await broker.stop()
        except Exception:  # draining fails while NATS is unreachable: close without draining
            logger.warning("the NATS broker did not stop cleanly; closing its connection", exc_info=True)
            connection = current_connection(broker)
            if connection is not None:
                await connection.close()


def _refreshing(monitor: ConsumerMonitor, broker: NatsBroker) -> Callable[[AsyncExitStack], Awaitable[None]]:
    return background_task("consumer-info", lambda: monitor.run(lambda: current_connection(broker)))


def _add_asyncapi(app: FastAPI, title: str, broker: NatsBroker, batch_consumers: Sequence[BatchConsumer]) -> None:
    @app.get("/asyncapi.json", tags=["operations"], summary="AsyncAPI document of the NATS interface")
    async def asyncapi() -> JSONResponse:
        document = specification(title, broker, batch_consumers)
        return JSONResponse(document.to_specification().to_jsonable())


def background_task(
    name: str, run: Callable[[], Coroutine[Any, Any, None]]
) -> Callable[[AsyncExitStack], Awaitable[None]]:
    """A start-up step running `run()` as a task for the app's lifetime, cancelled at shutdown."""

    async def start(stack: AsyncExitStack) -> None:
        task = asyncio.create_task(run(), name=name)

        async def stop() -> None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

        stack.push_async_callback(stop)

    return start

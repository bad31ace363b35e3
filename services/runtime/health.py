"""`/healthz`, `/readyz` and `/metrics`, identical in every service.

`/readyz` answers 200 `{status: ready, checks}` or 503 problem+json whose `detail` names every failing check
(`consumers`: the stuck consumer by name) and whose `reasons` maps each to its reason."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from faststream.nats import NatsBroker
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.runtime.nats.broker import current_connection
from services.runtime.nats.streams import missing_streams
from services.runtime.problems import Problem

# Returns None when ready, otherwise the reason it is not.
ReadinessCheck = Callable[[], Awaitable[str | None]]


def ops_router(checks: Mapping[str, ReadinessCheck], registry: CollectorRegistry) -> APIRouter:
    router = APIRouter(tags=["operations"])
    # Set by every /readyz call (the compose healthcheck calls it every 10 s): alerts on NATS or the database
    # being unreachable read it, as `up` only says the process answers.
    passing = Gauge(
        "dvc_readiness_check_passing",
        "1 when the readiness check passed at the latest /readyz",
        ["check"],
        registry=registry,
    )

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz", summary="Broker, database and streams are reachable, no consumer is stuck", response_model=None
    )
    async def readyz() -> Response:
        results = await asyncio.gather(*(_run_check(check) for check in checks.values()))
        reasons = {name: reason for name, reason in zip(checks, results, strict=True) if reason}
        for name in checks:
            passing.labels(name).set(0.0 if name in reasons else 1.0)
        if reasons:
            detail = "not ready: " + "; ".join(f"{name}: {reason}" for name, reason in reasons.items())
            return Problem(503, detail, reasons=reasons).to_response()
        return JSONResponse({"status": "ready", "checks": sorted(checks)})

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(without_created_series(generate_latest(registry)), media_type=CONTENT_TYPE_LATEST)

    return router


def without_created_series(exposition: bytes) -> bytes:
    """Drop the `<counter>_created` series prometheus_client adds to some counters only: every counter then
    looks the same (Prometheus never needs them, and the collector-made counters have none)."""
    kept = [line for line in exposition.split(b"\n") if not _is_created_line(line)]
    return b"\n".join(kept)


def _is_created_line(line: bytes) -> bool:
    if line.startswith((b"# HELP ", b"# TYPE ")):
        name = line.split(b" ", 3)[2]
    else:
        name = line.split(b"{", 1)[0].split(b" ", 1)[0]
    return name.endswith(b"_created")


async def _run_check(check: ReadinessCheck) -> str | None:
    try:
        return await asyncio.wait_for(check(), timeout=3.0)
    except TimeoutError:
        return "check timed out after 3 s"
    except Exception as error:  # a readiness probe reports, it never raises
        return f"{type(error).__name__}: {error}"


def nats_check(broker: NatsBroker) -> ReadinessCheck:
    async def check() -> str | None:
        connection = current_connection(broker)
        if connection is None or not connection.is_connected:
            return "not connected to NATS"
        return None

    return check


def streams_check(broker: NatsBroker, names: Sequence[str]) -> ReadinessCheck:
    async def check() -> str | None:
        connection = current_connection(broker)
        if connection is None or not connection.is_connected:
            return "not connected to NATS"
        missing = await missing_streams(connection.jetstream(), names)
        if missing:
            return f"streams missing: {', '.join(missing)} (run `dvc-pulse streams apply`)"
        return None

    return check


def database_check(engine: AsyncEngine) -> ReadinessCheck:
    async def check() -> str | None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return None

    return check

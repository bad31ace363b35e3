"""Wiring of the indicators service: the only place that builds and connects things."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime

from fastapi import FastAPI
from nats.aio.msg import Msg
from prometheus_client import CollectorRegistry

from services.contracts.streams import ALERTS, DLQ, EVENTS
from services.indicators.adapters import queries
from services.indicators.adapters.calendar_file import load_overrides
from services.indicators.adapters.migrate import upgrade
from services.indicators.adapters.store import AppliedBatch, Incoming
from services.indicators.adapters.tables import TABLES
from services.indicators.api import build_router
from services.indicators.api_events import build_events_router
from services.indicators.domain.calendar import build_calendar
from services.indicators.domain.dossier import DossierState
from services.indicators.extensions import (
    DossierReader,
    ExtensionFactory,
    Extensions,
    IndicatorsContext,
    discovered_factories,
)
from services.indicators.handlers import IndicatorsService
from services.indicators.metrics import IndicatorsMetrics
from services.indicators.partitions import owned_partitions, partition_service, publishes_snapshots
from services.indicators.settings import Settings
from services.indicators.snapshots import SnapshotLoop, snapshot_publisher
from services.indicators.subscribers import build_consumer, published_at
from services.runtime.app import background_task, build_service_app
from services.runtime.db import create_engine, create_session_factory
from services.runtime.gc_tuning import freeze_startup_objects
from services.runtime.health import database_check, nats_check, streams_check
from services.runtime.http_limits import RateLimit
from services.runtime.logging import configure_logging
from services.runtime.nats.broker import create_broker, jetstream
from services.runtime.nats.consumer_watch import ConsumerMonitor
from services.runtime.serving import serve


def create_app(
    settings: Settings | None = None,
    extension_factories: Sequence[ExtensionFactory] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    """`extension_factories=None` discovers `services.indicators.warning.wiring` (indicators-B)."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    broker = create_broker(settings.nats_servers, client_name="indicators", **settings.nats_connect_options())
    engine = create_engine(settings.resolved_database_url())
    sessions = create_session_factory(engine)
    registry = CollectorRegistry()
    calendar = build_calendar(
        settings.timezone,
        settings.working_hours,
        load_overrides(settings.calendar_overrides),
        settings.calendar_country,
    )
    metrics = IndicatorsMetrics(registry, settings.metrics_max_agencies)
    consumers = ConsumerMonitor(
        registry, unready_after=settings.unready_after_failed_batches, refresh_seconds=settings.consumer_info_seconds
    )
    service = IndicatorsService(
        engine=engine,
        sessions=sessions,
        tables=TABLES,
        calendar=calendar,
        consumer=settings.consumer,
        timezone=settings.timezone,
        metrics=metrics,
        ontime_target=settings.ontime_target,
        sat_target=settings.sat_target,
        leaderboard_min_volume=settings.leaderboard_min_volume,
        now=now,
        state_cache_size=settings.state_cache_size,
    )

    async def get_dossier(code: str) -> DossierState | None:
        async with engine.connect() as connection:
            return await queries.dossier(connection, TABLES, code)

    context = IndicatorsContext(
        settings=settings,
        engine=engine,
        sessions=sessions,
        broker=broker,
        registry=registry,
        calendar=calendar,
        dossiers=DossierReader(get_dossier, service.open_dossiers),
        now=now,
        js=lambda: jetstream(broker),
    )
    factories = discovered_factories() if extension_factories is None else list(extension_factories)
    extensions = Extensions([factory(context) for factory in factories])
    service.after_batch.extend(extensions.after_batch)
    snapshots = SnapshotLoop(
        service.take_snapshot,
        snapshot_publisher(lambda: jetstream(broker))
        if publishes_snapshots(settings.partitions, settings.owned_partitions)
        else None,
        settings.snapshot_interval_seconds,
        settings.snapshot_min_interval_seconds,
    )
    migrated = asyncio.Event()

    def applier(partitioned: IndicatorsService) -> Callable[[Sequence[Incoming]], Awaitable[AppliedBatch]]:
        async def apply(items: Sequence[Incoming]) -> AppliedBatch:
            await migrated.wait()  # the consumer may start before the migrations finished
            with metrics.apply_batch_seconds.time():
                return await partitioned.apply(items)

        return apply

    def on_batch(messages: Sequence[Msg]) -> None:
        stored = published_at(messages)
        if stored is not None:
            delay = max(0.0, (datetime.now(UTC) - stored).total_seconds())
            metrics.apply_lag.set(delay)
            metrics.event_to_kpi_delay.observe(delay)
        snapshots.poke()

    partitions = owned_partitions(settings.consumer, settings.partitions, settings.owned_partitions)
    consumers_run = [
        build_consumer(
            broker,
            durable=partition.durable,
            batch_size=settings.batch_size,
            idle_poll=settings.idle_poll_seconds,
            max_deliver=settings.max_deliver,
            ack_wait=settings.ack_wait_seconds,
            max_ack_pending=settings.max_ack_pending,
            apply=applier(partition_service(service, partition, settings.partitions)),
            on_batch=on_batch,
            monitor=consumers,
            filter_subjects=partition.filter_subjects,
        )
        for partition in partitions
    ]

    async def migrate_and_restore(stack: AsyncExitStack) -> None:
        stack.push_async_callback(engine.dispose)
        await upgrade(engine)
        migrated.set()
        await snapshots.run_once()  # metrics right after a restart, from the database

    app = build_service_app(
        service="indicators",
        title="DVC Pulse indicators",
        description="Plan indicators I15-I25 and ONTIME, leaderboard and dossier clocks, computed from events.",
        broker=broker,
        registry=registry,
        checks={
            "nats": nats_check(broker),
            "streams": streams_check(broker, [EVENTS.name, ALERTS.name, DLQ.name]),
            "database": database_check(engine),
        },
        routers=[
            build_router(service, settings.timezone, extensions.risk),
            build_events_router(engine, TABLES),
            *extensions.routers,
        ],
        max_body_bytes=settings.max_body_bytes,
        rate_limit=RateLimit(settings.rate_limit_per_second, settings.rate_limit_burst),
        connect_in_background=True,  # serve /healthz and a 503 /readyz while NATS or the streams are missing
        consumers=consumers,
        on_startup=[
            migrate_and_restore,
            background_task("indicators-snapshots", snapshots.run),
            *(
                background_task(f"indicators-consumer-{part.durable}", run.run)
                for part, run in zip(partitions, consumers_run, strict=True)
            ),
            *extensions.on_startup,
        ],
    )
    app.state.indicators = service
    app.state.snapshots = snapshots
    return app


def run() -> None:
    settings = Settings()
    app = create_app(settings)
    freeze_startup_objects()  # decoding a batch allocates ~10^5 objects: the default GC thresholds cost ~40%
    serve(app, settings.host, settings.port, settings.log_level)

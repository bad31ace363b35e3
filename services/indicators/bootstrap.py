"""Wiring of the indicators service: the only place that builds and connects things."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import FastAPI
from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.contracts.streams import ALERTS, DLQ, EVENTS
from services.indicators.adapters.calendar_file import load_overrides
from services.indicators.adapters.metrics import IndicatorsMetrics
from services.indicators.adapters.migrate import upgrade
from services.indicators.adapters.reader import SqlProjectionReader
from services.indicators.adapters.store import SqlProjections
from services.indicators.adapters.tables import TABLES
from services.indicators.adapters.unit_of_work import SqlUnitsOfWork
from services.indicators.bootstrap_partitions import owned_partitions, partition_service, publishes_snapshots
from services.indicators.bootstrap_warning import EarlyWarning, StartupStep, wire_early_warning
from services.indicators.domain.calendar import WorkingCalendar, build_calendar
from services.indicators.entrypoints.api import build_router
from services.indicators.entrypoints.api_events import build_events_router
from services.indicators.entrypoints.subscribers import build_consumer, published_at
from services.indicators.service_layer.handlers import IndicatorsService
from services.indicators.service_layer.messages import AppliedBatch, Incoming
from services.indicators.service_layer.snapshots import SnapshotLoop, snapshot_publisher
from services.indicators.service_layer.warning_sweep import Publisher
from services.indicators.settings import Settings
from services.runtime.app import background_task, build_service_app
from services.runtime.db import create_engine, create_session_factory
from services.runtime.gc_tuning import freeze_startup_objects
from services.runtime.http_limits import RateLimit
from services.runtime.logging import configure_logging
from services.runtime.nats.batch_consumer import BatchConsumer
from services.runtime.nats.broker import create_broker, jetstream
from services.runtime.nats.consumer_watch import ConsumerMonitor
from services.runtime.serving import serve


@dataclass(frozen=True)
class Parts:
    settings: Settings
    broker: NatsBroker
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    registry: CollectorRegistry
    calendar: WorkingCalendar
    metrics: IndicatorsMetrics
    consumers: ConsumerMonitor
    service: IndicatorsService


def create_app(
    settings: Settings | None = None,
    *,
    early_warning: bool = True,
    alert_publisher: Publisher | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    """`early_warning=False` leaves out the sweep and its API; `alert_publisher` replaces JetStream (tests)."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    parts = build_parts(settings, now)
    warning = None
    if early_warning:
        warning = wire_early_warning(
            settings,
            engine=parts.engine,
            sessions=parts.sessions,
            registry=parts.registry,
            calendar=parts.calendar,
            now=now,
            js=lambda: jetstream(parts.broker),
            publish=alert_publisher,
        )
    publishes = publishes_snapshots(settings.partitions, settings.owned_partitions)
    snapshots = SnapshotLoop(
        parts.service.take_snapshot,
        snapshot_publisher(lambda: jetstream(parts.broker)) if publishes else None,
        settings.snapshot_interval_seconds,
        settings.snapshot_min_interval_seconds,
    )
    consumers = build_event_consumers(parts, snapshots)
    app = build_app(parts, warning, consumers, startup_steps(snapshots, warning))
    app.state.indicators = parts.service
    app.state.snapshots = snapshots
    return app


def build_parts(settings: Settings, now: Callable[[], datetime]) -> Parts:
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
        reader=SqlProjectionReader(engine, TABLES),
        units=SqlUnitsOfWork(sessions, SqlProjections(TABLES, engine.dialect.name, settings.state_cache_size)),
        calendar=calendar,
        consumer=settings.consumer,
        timezone=settings.timezone,
        metrics=metrics,
        ontime_target=settings.ontime_target,
        sat_target=settings.sat_target,
        leaderboard_min_volume=settings.leaderboard_min_volume,
        now=now,
    )
    return Parts(settings, broker, engine, sessions, registry, calendar, metrics, consumers, service)


def build_event_consumers(parts: Parts, snapshots: SnapshotLoop) -> list[BatchConsumer]:
    """One consumer, or one per partition this replica owns (`bootstrap_partitions`)."""
    settings, metrics = parts.settings, parts.metrics

    def applier(service: IndicatorsService) -> Callable[[Sequence[Incoming]], Awaitable[AppliedBatch]]:
        async def apply(items: Sequence[Incoming]) -> AppliedBatch:
            with metrics.apply_batch_seconds.time():
                return await service.apply(items)

        return apply

    def on_batch(messages: Sequence[Msg]) -> None:
        stored = published_at(messages)
        if stored is not None:
            delay = max(0.0, (datetime.now(UTC) - stored).total_seconds())
            metrics.apply_lag.set(delay)
            metrics.event_to_kpi_delay.observe(delay)
        snapshots.poke()

    return [
        build_consumer(
            parts.broker,
            durable=partition.durable,
            batch_size=settings.batch_size,
            idle_poll=settings.idle_poll_seconds,
            max_deliver=settings.max_deliver,
            ack_wait=settings.ack_wait_seconds,
            max_ack_pending=settings.max_ack_pending,
            apply=applier(partition_service(parts.service, partition, settings.partitions)),
            on_batch=on_batch,
            monitor=parts.consumers,
            filter_subjects=partition.filter_subjects,
        )
        for partition in owned_partitions(settings.consumer, settings.partitions, settings.owned_partitions)
    ]


def startup_steps(snapshots: SnapshotLoop, warning: EarlyWarning | None) -> list[StartupStep]:
    """Run after the migrations (`build_service_app` migrates first) and before the consumer starts."""

    async def restore_metrics(_stack: AsyncExitStack) -> None:
        await snapshots.run_once()  # metrics right after a restart, from the database

    return [
        restore_metrics,
        background_task("indicators-snapshots", snapshots.run),
        *([] if warning is None else [warning.start]),
    ]


def build_app(
    parts: Parts, warning: EarlyWarning | None, consumers: list[BatchConsumer], on_startup: list[StartupStep]
) -> FastAPI:
    settings, broker, engine = parts.settings, parts.broker, parts.engine
    routers = [
        build_router(parts.service, settings.timezone, None if warning is None else warning.risk),
        build_events_router(engine, TABLES),
        *([] if warning is None else [warning.router]),
    ]
    return build_service_app(
        service="indicators",
        title="DVC Pulse indicators",
        description="Plan indicators I15-I25 and ONTIME, leaderboard and dossier clocks, computed from events.",
        broker=broker,
        registry=parts.registry,
        streams=[EVENTS.name, ALERTS.name, DLQ.name],
        engine=engine,
        migrate=lambda: upgrade(engine),
        batch_consumers=consumers,
        routers=routers,
        max_body_bytes=settings.max_body_bytes,
        rate_limit=RateLimit(settings.rate_limit_per_second, settings.rate_limit_burst),
        connect_in_background=True,  # serve /healthz and a 503 /readyz while NATS or the streams are missing
        monitor=parts.consumers,
        on_startup=on_startup,
    )


def run() -> None:
    settings = Settings()
    app = create_app(settings)
    freeze_startup_objects()  # decoding a batch allocates ~10^5 objects: the default GC thresholds cost ~40%
    serve(app, settings.host, settings.port, settings.log_level)

"""Wiring of the tasks service: the only place that builds and connects things."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from services.contracts.streams import ALERTS, DLQ
from services.runtime.api_keys import KeyStore, usage_file_in
from services.runtime.app import background_task, build_service_app
from services.runtime.db import create_engine
from services.runtime.health import ReadinessCheck
from services.runtime.http_limits import RateLimit
from services.runtime.logging import configure_logging
from services.runtime.nats.batch_consumer import BatchConsumer
from services.runtime.nats.broker import create_broker, jetstream
from services.runtime.nats.consumer_watch import ConsumerMonitor
from services.runtime.serving import serve
from services.tasks.adapters.alert_publisher import alert_publisher
from services.tasks.adapters.keys import key_store, parse_key_specs
from services.tasks.adapters.metrics import TasksMetrics
from services.tasks.adapters.migrate import upgrade
from services.tasks.adapters.plan_file import PlanFileError, read_plan_file
from services.tasks.adapters.unit_of_work import sql_unit_of_work
from services.tasks.domain.access import KeySpec
from services.tasks.entrypoints.api import build_router, install_error_handler
from services.tasks.entrypoints.subscribers import register_consumer
from services.tasks.service_layer.handlers import TasksService
from services.tasks.service_layer.handlers_tasks import TaskHandlers
from services.tasks.service_layer.messages import SnapshotItem, SnapshotOutcome
from services.tasks.service_layer.scheduler import DeadlineScheduler
from services.tasks.settings import Settings

logger = logging.getLogger("dvc_pulse.tasks")


async def load_default_plan(service: TasksService, plan_file: Path | None) -> None:
    """Load `plan_file` when no plan is loaded yet; make its plan the default one unless one is configured."""
    if plan_file is None:
        return
    try:
        loaded = read_plan_file(plan_file)
    except PlanFileError as error:
        logger.error("the plan file cannot be loaded:\n%s", error.describe())
        return
    if service.default_plan is None:
        service.default_plan = loaded.plan.plan.id
    if await service.plan_count() == 0:
        summary = await service.load_plan(loaded)
        logger.warning("loaded plan %s from %s", summary.plan_id, plan_file)


def plan_check(service: TasksService) -> ReadinessCheck:
    async def check() -> str | None:
        if await service.plan_count() == 0:
            return "no plan is loaded (run `dvc-pulse tasks load-plan FILE`)"
        return None

    return check


def _service(
    settings: Settings, engine: AsyncEngine, registry: CollectorRegistry, now: Callable[[], datetime]
) -> TasksService:
    return TasksService(
        uow=sql_unit_of_work(engine),
        timezone=settings.timezone,
        now=now,
        metrics=TasksMetrics(registry),
        due_soon_days=settings.due_soon_days,
        default_plan=settings.default_plan,
    )


def _keys(settings: Settings) -> KeyStore[KeySpec]:
    return key_store(
        settings.resolved_keys_file(),
        parse_key_specs(settings.keys),
        usage_file=usage_file_in(settings.var_dir, "tasks"),
    )


def _scheduler(broker: NatsBroker, settings: Settings, service: TasksService) -> DeadlineScheduler:
    return DeadlineScheduler(
        service,
        alert_publisher(lambda: jetstream(broker)),
        settings.deadline_check_seconds,
        settings.processed_retention_days,
    )


def _snapshots_consumer(
    broker: NatsBroker, settings: Settings, service: TasksService, monitor: ConsumerMonitor
) -> BatchConsumer:
    async def apply(items: Sequence[SnapshotItem]) -> SnapshotOutcome:
        return await service.apply_snapshots(items)

    return register_consumer(
        broker,
        durable=settings.consumer,
        replay=settings.snapshot_replay,
        batch_size=settings.batch_size,
        batch_timeout=settings.batch_timeout,
        max_deliver=settings.max_deliver,
        ack_wait=settings.ack_wait_seconds,
        apply=apply,
        monitor=monitor,
    )


def create_app(settings: Settings | None = None, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    broker = create_broker(settings.nats_servers, client_name="tasks", **settings.nats_connect_options())
    engine = create_engine(settings.resolved_database_url())
    registry = CollectorRegistry()
    consumers = ConsumerMonitor(
        registry, unready_after=settings.unready_after_failed_batches, refresh_seconds=settings.consumer_info_seconds
    )
    service = _service(settings, engine, registry, now)
    keys = _keys(settings)
    scheduler = _scheduler(broker, settings, service)
    consumer = _snapshots_consumer(broker, settings, service, consumers)

    async def migrate_and_load() -> None:
        await upgrade(engine)
        await load_default_plan(service, settings.resolved_plan_file())

    async def restore_metrics(_stack: AsyncExitStack) -> None:
        await service.refresh_metrics()  # gauges right after a restart, from the database

    app = build_service_app(
        service="tasks",
        title="DVC Pulse tasks",
        description="The plan's 38 indicators and its tasks: targets, reported and live values, progress, "
        "deadline alerts and the periodic report.",
        broker=broker,
        registry=registry,
        checks={"plan": plan_check(service)},
        streams=[ALERTS.name, DLQ.name],
        engine=engine,
        migrate=migrate_and_load,
        batch_consumers=[consumer],
        routers=[build_router(service, TaskHandlers(service), keys, scheduler.poke)],
        on_startup=[restore_metrics, background_task("tasks-deadlines", scheduler.run)],
        max_body_bytes=settings.max_body_bytes,
        rate_limit=RateLimit(settings.rate_limit_per_second, settings.rate_limit_burst),
        connect_in_background=True,
        monitor=consumers,
    )
    install_error_handler(app)
    app.state.tasks = service
    app.state.scheduler = scheduler
    return app


def run() -> None:
    settings = Settings()
    serve(create_app(settings), settings.host, settings.port, settings.log_level)

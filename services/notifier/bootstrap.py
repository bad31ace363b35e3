"""Wiring of the notifier: the only place that builds and connects things."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, FastAPI
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.contracts.streams import ALERTS, DLQ, EVENTS, NOTIFY
from services.notifier.adapters.config_files import load_templates, load_triggers
from services.notifier.adapters.crypto import PhoneVault
from services.notifier.adapters.keyring import check_hash_key, vault_from
from services.notifier.adapters.keys import key_store
from services.notifier.adapters.metrics import NotifierMetrics
from services.notifier.adapters.migrate import upgrade
from services.notifier.adapters.phones import to_e164
from services.notifier.adapters.providers import (
    Providers,
)
from services.notifier.adapters.providers.callback_auth import CallbackTokens
from services.notifier.adapters.staff import StaffDirectory
from services.notifier.adapters.status_relay import StatusRelay
from services.notifier.adapters.unit_of_work import SqlUnitOfWork
from services.notifier.bootstrap_parts import (
    consumer_settings,
    dispatch_settings,
    limits,
    providers_of,
    quiet_hours,
)
from services.notifier.domain.incoming import Incoming
from services.notifier.domain.policy import QuietHours
from services.notifier.domain.templates import ConfigError, TemplateSet
from services.notifier.domain.triggers import Triggers
from services.notifier.entrypoints.alerts_api import build_alerts_router
from services.notifier.entrypoints.api import ApiDependencies, build_router
from services.notifier.entrypoints.lookup import build_lookup_router
from services.notifier.entrypoints.subscribers import register_consumers
from services.notifier.service_layer.dispatcher import Dispatcher
from services.notifier.service_layer.handlers import Intake
from services.notifier.service_layer.optouts import OptOuts
from services.notifier.service_layer.retention import Purger
from services.notifier.settings import Settings
from services.runtime.api_keys import usage_file_in
from services.runtime.app import background_task, build_service_app
from services.runtime.attempts import AttemptLimiter
from services.runtime.db import create_engine, create_session_factory
from services.runtime.http_limits import RateLimit
from services.runtime.logging import configure_logging
from services.runtime.nats.batch_consumer import BatchConsumer
from services.runtime.nats.broker import create_broker, jetstream
from services.runtime.nats.consumer_watch import ConsumerMonitor
from services.runtime.serving import app_or_exit, serve

ALERTMANAGER_CONSUMER = "alertmanager"  # the position key of POST /v1/alerts/alertmanager (no stream sequence)

Clock = Callable[[], datetime]


@dataclass
class _Core:
    """What the notifier's consumers, routes and loops share (built before anything starts or connects)."""

    settings: Settings
    now: Clock
    templates: TemplateSet
    triggers: Triggers
    vault: PhoneVault
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    providers: Providers
    callback_tokens: CallbackTokens
    metrics: NotifierMetrics
    dispatcher: Dispatcher
    intake: Intake

    async def apply(self, items: Sequence[Incoming], consumer: str) -> None:
        transitions = await self.intake.apply(items, consumer)
        for kind, count in Counter(item.kind for item in items).items():
            self.metrics.events.labels(kind).inc(count)
        for (template, status), count in Counter((t.template, t.status) for t in transitions).items():
            self.metrics.entered(template, status, count)

    async def take_ops_alerts(self, items: Sequence[Incoming]) -> None:
        await self.apply(items, ALERTMANAGER_CONSUMER)
        self.dispatcher.poke()

    async def migrate(self) -> None:
        await upgrade(self.engine)
        await check_hash_key(self.sessions, self.vault, self.now())

    async def start_providers(self, stack: AsyncExitStack) -> None:
        stack.push_async_callback(self.providers.close)
        await self.providers.start()


def _intake(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    vault: PhoneVault,
    triggers: Triggers,
    quiet: QuietHours,
    now: Clock,
) -> Intake:
    return Intake(
        units=lambda: SqlUnitOfWork(sessions),
        vault=vault,
        to_e164=to_e164,
        staff=StaffDirectory.load(settings.staff_directory),
        triggers=triggers,
        quiet=quiet,
        limits=limits(settings),
        now=now,
    )


def _consumers(
    settings: Settings, broker: NatsBroker, registry: CollectorRegistry, core: _Core
) -> tuple[ConsumerMonitor, list[BatchConsumer]]:
    """The events and alerts consumers, and the monitor that watches them (readiness, metrics)."""
    monitor = ConsumerMonitor(
        registry, unready_after=settings.unready_after_failed_batches, refresh_seconds=settings.consumer_info_seconds
    )
    batch_consumers = register_consumers(
        broker,
        events=consumer_settings(settings, settings.events_consumer),
        alerts=consumer_settings(settings, settings.alerts_consumer),
        timezone=settings.timezone,
        apply=core.apply,
        after_batch=core.dispatcher.poke,
        monitor=monitor,
    )
    return monitor, batch_consumers


def _core(
    settings: Settings,
    now: Clock,
    uniform: Callable[[float, float], float],
    registry: CollectorRegistry,
    broker: NatsBroker,
) -> _Core:
    templates = load_templates(settings.templates_file, settings.centre_name)
    triggers = load_triggers(templates, settings.triggers_file)
    quiet, vault = quiet_hours(settings), vault_from(settings)
    engine = create_engine(settings.resolved_database_url())
    sessions = create_session_factory(engine)
    receipts: list[Dispatcher] = []
    providers, callback_tokens = providers_of(settings, receipts)
    metrics = NotifierMetrics(registry, providers.health)
    dispatcher = Dispatcher(
        units=lambda: SqlUnitOfWork(sessions),
        provider=providers.provider,
        vault=vault,
        quiet=quiet,
        settings=dispatch_settings(settings),
        now=now,
        metrics=metrics,
        relay=StatusRelay(sessions, lambda: jetstream(broker)),
        uniform=uniform,
    )
    receipts.append(dispatcher)
    intake = _intake(settings, sessions, vault, triggers, quiet, now)
    parts = (templates, triggers, vault, engine, sessions, providers, callback_tokens, metrics, dispatcher, intake)
    return _Core(settings, now, *parts)


def _routers(core: _Core, optouts: OptOuts) -> list[APIRouter]:
    settings = core.settings
    operator_keys = key_store(
        settings.resolved_keys_file(),
        settings.keys,
        check_every=settings.keys_reload_seconds,
        usage_file=usage_file_in(settings.var_dir, "notifier"),
    )
    router = build_router(
        ApiDependencies(
            sessions=core.sessions,
            vault=core.vault,
            templates=core.templates,
            triggers=core.triggers,
            optouts=optouts,
            parse_receipts=core.providers.parse_receipts,
            callback_tokens=core.callback_tokens,
            apply_receipts=core.dispatcher.apply_receipts,
            operator_keys=operator_keys,
        )
    )
    limiter = AttemptLimiter(settings.lookup_attempts_per_dossier, settings.lookup_window_seconds)
    lookup_router = build_lookup_router(core.sessions, core.vault, operator_keys, limiter)
    return [router, lookup_router, build_alerts_router(operator_keys, core.take_ops_alerts)]


def create_app(
    settings: Settings | None = None,
    now: Clock = lambda: datetime.now(UTC),
    uniform: Callable[[float, float], float] = random.uniform,
) -> FastAPI:
    """Raises ConfigError (templates, triggers, providers, keys, quiet hours) before anything starts."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    registry = CollectorRegistry()
    broker = create_broker(settings.nats_servers, client_name="notifier", **settings.nats_connect_options())
    core = _core(settings, now, uniform, registry, broker)
    optouts = OptOuts(
        units=lambda: SqlUnitOfWork(core.sessions),
        vault=core.vault,
        to_e164=to_e164,
        now=now,
        metrics=core.metrics,
        on_change=core.dispatcher.poke,
    )
    purger = Purger(lambda: SqlUnitOfWork(core.sessions), timedelta(days=settings.retention_days), now)
    consumers, batch_consumers = _consumers(settings, broker, registry, core)
    app = build_service_app(
        service="notifier",
        title="DVC Pulse notifier",
        description="Vietnamese SMS to citizens about their dossiers and reminders to officers, once each.",
        broker=broker,
        registry=registry,
        streams=[EVENTS.name, ALERTS.name, NOTIFY.name, DLQ.name],
        engine=core.engine,
        migrate=core.migrate,
        batch_consumers=batch_consumers,
        routers=_routers(core, optouts),
        max_body_bytes=settings.max_body_bytes,
        rate_limit=RateLimit(settings.rate_limit_per_second, settings.rate_limit_burst),
        on_startup=[
            core.start_providers,
            background_task("notifier-dispatcher", lambda: core.dispatcher.run(settings.dispatch_interval_seconds)),
            background_task("notifier-purge", lambda: purger.run(settings.purge_interval_hours * 3600)),
        ],
        monitor=consumers,
    )
    app.state.dispatcher, app.state.intake, app.state.metrics = core.dispatcher, core.intake, core.metrics
    app.state.purger, app.state.vault = purger, core.vault
    return app


def run() -> None:
    settings = Settings()
    app = app_or_exit("notifier", lambda: create_app(settings), ConfigError)
    serve(app, settings.host, settings.port, settings.log_level)

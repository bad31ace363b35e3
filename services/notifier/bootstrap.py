"""Wiring of the notifier: the only place that builds and connects things."""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.contracts.streams import ALERTS, DLQ, EVENTS, NOTIFY
from services.notifier.adapters.config_files import load_templates, load_triggers
from services.notifier.adapters.keyring import check_hash_key, vault_from
from services.notifier.adapters.keys import key_store
from services.notifier.adapters.metrics import NotifierMetrics
from services.notifier.adapters.migrate import upgrade
from services.notifier.adapters.phones import to_e164
from services.notifier.adapters.providers import (
    FailoverSettings,
    OutboxSettings,
    build_providers,
    parse_failover_settings,
    parse_provider_settings,
)
from services.notifier.adapters.providers.callback_auth import CallbackTokens
from services.notifier.adapters.providers.config import HttpSettings, SmppSettings
from services.notifier.adapters.staff import StaffDirectory
from services.notifier.adapters.status_relay import StatusRelay
from services.notifier.adapters.unit_of_work import SqlUnitOfWork
from services.notifier.domain.incoming import Incoming
from services.notifier.domain.policy import Limits, QuietHours
from services.notifier.domain.sending import DeliveryReceipt
from services.notifier.domain.templates import ConfigError
from services.notifier.entrypoints.alerts_api import build_alerts_router
from services.notifier.entrypoints.api import ApiDependencies, build_router
from services.notifier.entrypoints.lookup import build_lookup_router
from services.notifier.entrypoints.subscribers import ConsumerSettings, register_consumers
from services.notifier.service_layer.dispatcher import Dispatcher, DispatchSettings
from services.notifier.service_layer.handlers import Intake
from services.notifier.service_layer.optouts import OptOuts
from services.notifier.service_layer.retention import Purger
from services.notifier.settings import Settings
from services.runtime.api_keys import usage_file_in
from services.runtime.app import background_task, build_service_app
from services.runtime.attempts import AttemptLimiter
from services.runtime.db import create_engine, create_session_factory
from services.runtime.health import database_check, nats_check, streams_check
from services.runtime.http_limits import RateLimit
from services.runtime.logging import configure_logging
from services.runtime.nats.broker import create_broker, jetstream
from services.runtime.nats.consumer_watch import ConsumerMonitor
from services.runtime.serving import serve

ALERTMANAGER_CONSUMER = "alertmanager"  # the position key of POST /v1/alerts/alertmanager (no stream sequence)

Clock = Callable[[], datetime]


def provider_settings(
    settings: Settings,
) -> tuple[list[OutboxSettings | HttpSettings | SmppSettings], FailoverSettings]:
    """The configured providers (the default outbox file follows `DVC_VAR_DIR`) and their failover rules."""
    try:
        return (
            parse_provider_settings(settings.providers, var_dir=settings.var_dir),
            parse_failover_settings(settings.providers),
        )
    except (ValueError, OSError) as error:
        raise ConfigError(f"DVC_NOTIFIER_PROVIDERS: {error}") from None


def _consumer(settings: Settings, durable: str) -> ConsumerSettings:
    return ConsumerSettings(
        durable=durable,
        batch_size=settings.batch_size,
        batch_timeout=settings.batch_timeout,
        max_deliver=settings.max_deliver,
        ack_wait=settings.ack_wait_seconds,
        max_ack_pending=settings.max_ack_pending,
        deliver_new_only=settings.start_from == "new",
    )


def create_app(
    settings: Settings | None = None,
    now: Clock = lambda: datetime.now(UTC),
    uniform: Callable[[float, float], float] = random.uniform,
) -> FastAPI:
    """Raises ConfigError (templates, triggers, providers, keys, quiet hours) before anything starts."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    templates = load_templates(settings.templates_file, settings.centre_name)
    triggers = load_triggers(templates, settings.triggers_file)
    try:
        quiet = QuietHours.parse(settings.quiet_hours, settings.timezone)
    except (ValueError, LookupError) as error:
        raise ConfigError(f"DVC_NOTIFIER_QUIET_HOURS / DVC_TIMEZONE: {error}") from None
    staff = StaffDirectory.load(settings.staff_directory)
    vault = vault_from(settings)
    broker = create_broker(settings.nats_servers, client_name="notifier", **settings.nats_connect_options())
    engine = create_engine(settings.resolved_database_url())
    sessions = create_session_factory(engine)
    registry = CollectorRegistry()
    receipt_sink: list[Dispatcher] = []

    async def on_receipt(receipt: DeliveryReceipt) -> None:
        await receipt_sink[0].receive(receipt)

    members, failover = provider_settings(settings)
    try:
        providers = build_providers(members, on_receipt=on_receipt, failover=failover)
        callback_tokens = CallbackTokens.resolve(members, settings.var_dir)
    except ValueError as error:
        raise ConfigError(f"DVC_NOTIFIER_PROVIDERS: {error}") from None
    metrics = NotifierMetrics(registry, providers.health)
    consumers = ConsumerMonitor(
        registry, unready_after=settings.unready_after_failed_batches, refresh_seconds=settings.consumer_info_seconds
    )
    relay = StatusRelay(sessions, lambda: jetstream(broker))
    dispatcher = Dispatcher(
        sessions=sessions,
        units=lambda: SqlUnitOfWork(sessions),
        provider=providers.provider,
        vault=vault,
        quiet=quiet,
        settings=DispatchSettings(
            batch_size=settings.dispatch_batch_size,
            concurrency=settings.send_concurrency,
            max_attempts=settings.max_attempts,
            retry_base=timedelta(seconds=settings.retry_base_seconds),
            retry_cap=timedelta(seconds=settings.retry_cap_seconds),
            receipt_timeout=timedelta(hours=settings.receipt_timeout_hours),
            unknown_review=timedelta(hours=settings.unknown_review_hours),
            sending_timeout=timedelta(seconds=settings.sending_timeout_seconds),
            sweep_interval=timedelta(seconds=settings.sweep_interval_seconds),
            contact_wait=timedelta(hours=settings.contact_wait_hours),
            sender=settings.sender,
        ),
        now=now,
        metrics=metrics,
        relay=relay,
        uniform=uniform,
    )
    receipt_sink.append(dispatcher)
    intake = Intake(
        sessions=sessions,
        vault=vault,
        to_e164=to_e164,
        staff=staff,
        triggers=triggers,
        quiet=quiet,
        limits=Limits(
            max_event_age=timedelta(hours=settings.max_event_age_hours),
            citizen_daily_cap=settings.citizen_daily_cap,
            officer_daily_cap=settings.officer_daily_cap,
            dossier_daily_cap=settings.dossier_daily_cap,
            duplicate_window=timedelta(hours=settings.duplicate_window_hours),
        ),
        now=now,
    )
    optouts = OptOuts(
        sessions=sessions, vault=vault, to_e164=to_e164, now=now, metrics=metrics, on_change=dispatcher.poke
    )
    purger = Purger(sessions, timedelta(days=settings.retention_days), now)
    migrated = asyncio.Event()

    async def apply(items: Sequence[Incoming], consumer: str) -> None:
        await migrated.wait()  # the consumers may start before the migrations finished
        transitions = await intake.apply(items, consumer)
        for item in items:
            metrics.events.labels(item.kind).inc()
        for transition in transitions:
            metrics.entered(transition.template, transition.status)

    register_consumers(
        broker,
        events=_consumer(settings, settings.events_consumer),
        alerts=_consumer(settings, settings.alerts_consumer),
        timezone=settings.timezone,
        apply=apply,
        after_batch=dispatcher.poke,
        monitor=consumers,
    )

    async def migrate(stack: AsyncExitStack) -> None:
        stack.push_async_callback(engine.dispose)
        stack.push_async_callback(providers.close)
        await upgrade(engine)
        await check_hash_key(sessions, vault, now())
        migrated.set()
        await providers.start()

    operator_keys = key_store(
        settings.resolved_keys_file(),
        settings.keys,
        check_every=settings.keys_reload_seconds,
        usage_file=usage_file_in(settings.var_dir, "notifier"),
    )

    async def take_ops_alerts(items: Sequence[Incoming]) -> None:
        await apply(items, ALERTMANAGER_CONSUMER)
        dispatcher.poke()

    router = build_router(
        ApiDependencies(
            sessions=sessions,
            vault=vault,
            templates=templates,
            triggers=triggers,
            optouts=optouts,
            parse_receipts=providers.parse_receipts,
            callback_tokens=callback_tokens,
            apply_receipts=dispatcher.apply_receipts,
            operator_keys=operator_keys,
        )
    )
    lookup_router = build_lookup_router(
        sessions,
        vault,
        operator_keys,
        AttemptLimiter(settings.lookup_attempts_per_dossier, settings.lookup_window_seconds),
    )
    app = build_service_app(
        service="notifier",
        title="DVC Pulse notifier",
        description="Vietnamese SMS to citizens about their dossiers and reminders to officers, once each.",
        broker=broker,
        registry=registry,
        checks={
            "nats": nats_check(broker),
            "streams": streams_check(broker, [EVENTS.name, ALERTS.name, NOTIFY.name, DLQ.name]),
            "database": database_check(engine),
        },
        routers=[router, lookup_router, build_alerts_router(operator_keys, take_ops_alerts)],
        max_body_bytes=settings.max_body_bytes,
        rate_limit=RateLimit(settings.rate_limit_per_second, settings.rate_limit_burst),
        on_startup=[
            migrate,
            background_task("notifier-dispatcher", lambda: dispatcher.run(settings.dispatch_interval_seconds)),
            background_task("notifier-purge", lambda: purger.run(settings.purge_interval_hours * 3600)),
        ],
        consumers=consumers,
    )
    app.state.dispatcher = dispatcher
    app.state.intake = intake
    app.state.metrics = metrics
    app.state.purger = purger
    app.state.vault = vault
    return app


def run() -> None:
    settings = Settings()
    try:
        app = create_app(settings)
    except ConfigError as error:
        print(f"notifier: cannot start: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    serve(app, settings.host, settings.port, settings.log_level)

"""What the notifier's wiring derives from its settings: providers, quiet hours, limits, dispatcher and consumer
settings (each a ConfigError naming the setting when it is wrong)."""

from __future__ import annotations

from datetime import timedelta

from services.notifier.adapters.providers import (
    FailoverSettings,
    OutboxSettings,
    Providers,
    build_providers,
    parse_failover_settings,
    parse_provider_settings,
)
from services.notifier.adapters.providers.callback_auth import CallbackTokens
from services.notifier.adapters.providers.config import HttpSettings, SmppSettings
from services.notifier.domain.policy import Limits, QuietHours
from services.notifier.domain.sending import DeliveryReceipt
from services.notifier.domain.templates import ConfigError
from services.notifier.entrypoints.subscribers import ConsumerSettings
from services.notifier.service_layer.dispatcher import Dispatcher, DispatchSettings
from services.notifier.settings import Settings


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


def consumer_settings(settings: Settings, durable: str) -> ConsumerSettings:
    return ConsumerSettings(
        durable=durable,
        batch_size=settings.batch_size,
        batch_timeout=settings.batch_timeout,
        max_deliver=settings.max_deliver,
        ack_wait=settings.ack_wait_seconds,
        max_ack_pending=settings.max_ack_pending,
        deliver_new_only=settings.start_from == "new",
    )


def quiet_hours(settings: Settings) -> QuietHours:
    try:
        return QuietHours.parse(settings.quiet_hours, settings.timezone)
    except (ValueError, LookupError) as error:
        raise ConfigError(f"DVC_NOTIFIER_QUIET_HOURS / DVC_TIMEZONE: {error}") from None


def dispatch_settings(settings: Settings) -> DispatchSettings:
    return DispatchSettings(
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
    )


def limits(settings: Settings) -> Limits:
    return Limits(
        max_event_age=timedelta(hours=settings.max_event_age_hours),
        citizen_daily_cap=settings.citizen_daily_cap,
        officer_daily_cap=settings.officer_daily_cap,
        dossier_daily_cap=settings.dossier_daily_cap,
        duplicate_window=timedelta(hours=settings.duplicate_window_hours),
    )


def providers_of(settings: Settings, receipts: list[Dispatcher]) -> tuple[Providers, CallbackTokens]:
    """The providers; their receipts go to the dispatcher appended to `receipts` once it exists."""

    async def on_receipt(receipt: DeliveryReceipt) -> None:
        await receipts[0].receive(receipt)

    members, failover = provider_settings(settings)
    try:
        providers = build_providers(members, on_receipt=on_receipt, failover=failover)
        return providers, CallbackTokens.resolve(members, settings.var_dir)
    except ValueError as error:
        raise ConfigError(f"DVC_NOTIFIER_PROVIDERS: {error}") from None

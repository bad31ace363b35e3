"""Builds the notifier's SMS provider from configuration: each configured provider (test numbers answered
without sending), behind one failover provider in the configured order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.notifier.adapters.providers.base import ReceiptCallback
from services.notifier.adapters.providers.config import (
    FailoverSettings,
    HttpSettings,
    OutboxSettings,
    ProviderSettings,
    SmppSettings,
)
from services.notifier.adapters.providers.failover import FailoverProvider, ProviderHealth
from services.notifier.adapters.providers.http_gateway import HttpGatewayProvider
from services.notifier.adapters.providers.outbox import OutboxProvider
from services.notifier.adapters.providers.receipts import InvalidReceipt, parse_receipts
from services.notifier.adapters.providers.smpp import SmppProvider
from services.notifier.adapters.providers.testnumbers import TestNumbersShortCircuit
from services.notifier.domain.sending import DeliveryReceipt, SmsProvider


class UnknownProvider(LookupError):
    """A receipt for a provider name that is not configured (404 at POST /v1/receipts/{provider})."""


def _build_one(settings: ProviderSettings, on_receipt: ReceiptCallback | None) -> SmsProvider:
    provider: SmsProvider
    if isinstance(settings, OutboxSettings):
        provider = OutboxProvider(settings, on_receipt)
    elif isinstance(settings, HttpSettings):
        provider = HttpGatewayProvider(settings)
    elif isinstance(settings, SmppSettings):
        provider = SmppProvider(settings, on_receipt)
    else:
        raise TypeError(f"unsupported provider settings {type(settings).__name__}")
    return TestNumbersShortCircuit(provider, on_receipt) if settings.test_numbers else provider


@dataclass
class Providers:
    """What the notifier wires: `provider` to send through, receipts parsing and health for metrics."""

    provider: FailoverProvider
    settings: Mapping[str, ProviderSettings]

    def parse_receipts(
        self, provider_name: str, body: bytes | str | Mapping[str, Any] | list[Any]
    ) -> list[DeliveryReceipt]:
        settings = self.settings.get(provider_name)
        if settings is None:
            raise UnknownProvider(provider_name)
        return parse_receipts(settings, body)

    async def start(self) -> None:
        await self.provider.start()

    def health(self) -> list[ProviderHealth]:
        return self.provider.health()

    async def close(self) -> None:
        await self.provider.close()


def build_providers(
    settings: Sequence[ProviderSettings],
    on_receipt: ReceiptCallback | None = None,
    failover: FailoverSettings | None = None,
) -> Providers:
    """Nothing connects here: HTTP clients and SMPP sessions start on first use."""
    if not settings:
        raise ValueError("configure at least one SMS provider (DVC_NOTIFIER_PROVIDERS)")
    names = [item.name for item in settings]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"provider names must be unique: {', '.join(duplicates)}")
    members = [_build_one(item, on_receipt) for item in settings]
    return Providers(FailoverProvider(members, failover), {item.name: item for item in settings})


__all__ = ["InvalidReceipt", "Providers", "UnknownProvider", "build_providers"]

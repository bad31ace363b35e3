"""SMS providers behind `services.notifier.domain.sending.SmsProvider`: outbox (embedded default), a generic
JSON HTTP gateway, SMPP 3.4; test numbers; failover. Entry points: `parse_provider_settings`,
`parse_failover_settings`, `build_providers`, `parse_receipt`."""

from services.notifier.adapters.providers.base import ReceiptCallback
from services.notifier.adapters.providers.config import (
    FailoverSettings,
    HttpSettings,
    OutboxSettings,
    ProviderSettings,
    SmppSettings,
    parse_failover_settings,
    parse_provider_settings,
)
from services.notifier.adapters.providers.factory import Providers, UnknownProvider, build_providers
from services.notifier.adapters.providers.failover import CircuitState, ProviderHealth
from services.notifier.adapters.providers.outbox import read_outbox
from services.notifier.adapters.providers.receipts import InvalidReceipt, parse_receipt, parse_receipts
from services.notifier.adapters.providers.testnumbers import TEST_NUMBERS

__all__ = [
    "TEST_NUMBERS",
    "CircuitState",
    "FailoverSettings",
    "HttpSettings",
    "InvalidReceipt",
    "OutboxSettings",
    "ProviderHealth",
    "ProviderSettings",
    "Providers",
    "ReceiptCallback",
    "SmppSettings",
    "UnknownProvider",
    "build_providers",
    "parse_failover_settings",
    "parse_provider_settings",
    "parse_receipt",
    "parse_receipts",
    "read_outbox",
]

"""Turning a provider's delivery-report callback body into a DeliveryReceipt (POST /v1/receipts/{provider})."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from services.notifier.adapters.providers.config import HttpReceiptMapping, HttpSettings, ProviderSettings
from services.notifier.domain.sending import DeliveryReceipt, ReceiptStatus

# The body the outbox and SMPP providers accept over HTTP (for tools and tests): our own field names.
GENERIC_RECEIPT = HttpReceiptMapping(
    reference_field="provider_reference",
    status_field="status",
    detail_field="detail",
    delivered_values=(ReceiptStatus.DELIVERED.value, "DELIVRD"),
    permanent_values=(ReceiptStatus.PERMANENT_FAILURE.value, "UNDELIV", "REJECTD", "EXPIRED"),
)


class InvalidReceipt(ValueError):
    """A receipt body that cannot be understood; `field` and `reason` go into the 422 problem+json."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def lookup(body: Mapping[str, Any], dotted: str) -> Any:
    """`a.b.c` in nested mappings; None when any step is missing."""
    value: Any = body
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _decode(body: bytes | str | Mapping[str, Any] | list[Any]) -> Any:
    if isinstance(body, bytes | str):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidReceipt("body", f"not JSON: {exc}") from None
    return body


def _receipt(provider: str, mapping: HttpReceiptMapping, item: Any) -> DeliveryReceipt:
    if not isinstance(item, Mapping):
        raise InvalidReceipt("body", "expected a JSON object")
    reference = lookup(item, mapping.request_id_field) if mapping.request_id_field else None
    if reference is None or str(reference).strip() == "":
        reference = lookup(item, mapping.reference_field)
    if reference is None or str(reference).strip() == "":
        raise InvalidReceipt(mapping.reference_field, "missing")
    raw_status = lookup(item, mapping.status_field)
    if raw_status is None or str(raw_status).strip() == "":
        raise InvalidReceipt(mapping.status_field, "missing")
    status_text = str(raw_status).strip()
    if status_text in mapping.delivered_values:
        status = ReceiptStatus.DELIVERED
    elif status_text in mapping.permanent_values:
        status = ReceiptStatus.PERMANENT_FAILURE
    else:
        status = ReceiptStatus.TEMPORARY_FAILURE
    detail = lookup(item, mapping.detail_field) if mapping.detail_field else None
    return DeliveryReceipt(
        provider=provider,
        provider_reference=str(reference).strip(),
        status=status,
        detail=str(detail) if detail is not None else status_text,
    )


def _mapping(settings: ProviderSettings) -> HttpReceiptMapping:
    return settings.receipt if isinstance(settings, HttpSettings) else GENERIC_RECEIPT


def parse_receipts(
    provider_settings: ProviderSettings, body: bytes | str | Mapping[str, Any] | list[Any]
) -> list[DeliveryReceipt]:
    """Every receipt in a callback body: one JSON object, or a JSON array of them (some gateways batch)."""
    decoded = _decode(body)
    items = decoded if isinstance(decoded, list) else [decoded]
    if not items:
        raise InvalidReceipt("body", "no receipt in the array")
    mapping = _mapping(provider_settings)
    return [_receipt(provider_settings.name, mapping, item) for item in items]


def parse_receipt(
    provider_settings: ProviderSettings, body: bytes | str | Mapping[str, Any] | list[Any]
) -> DeliveryReceipt:
    """The one receipt in a callback body; raises InvalidReceipt (field, reason) when it is unusable."""
    receipts = parse_receipts(provider_settings, body)
    if len(receipts) != 1:
        raise InvalidReceipt("body", f"expected one receipt, got {len(receipts)}")
    return receipts[0]

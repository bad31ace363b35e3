"""The boundary between the notifier's delivery logic and SMS providers (outbox, http, smpp)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True)
class OutgoingSms:
    notification_id: str
    to_e164: str
    text: str
    encoding: Encoding
    segments: int
    sender: str | None = None  # brandname registered with the carriers


@dataclass(frozen=True)
class SendResult:
    """What a provider said when handed a message (not whether it was delivered).

    Three outcomes: accepted; refused (`accepted=False`: nothing reached the provider, or it said no, so
    another attempt or provider cannot send it twice); unknown (`unknown=True`: the request was written but
    no answer came, or only some segments were taken, so the provider may have it: never resent)."""

    accepted: bool
    provider_reference: str | None = None
    error: str | None = None
    permanent: bool = False  # a rejection that retrying cannot fix (invalid number, blocked content)
    provider: str | None = None  # which provider answered (the failover provider may use any configured one)
    unknown: bool = False  # ambiguous: the provider may have accepted it (then `accepted` is False)
    reason: str | None = None  # why it is unknown: provider_timeout, connection_lost, partly_sent


class ReceiptStatus(StrEnum):
    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary-failure"
    PERMANENT_FAILURE = "permanent-failure"


@dataclass(frozen=True)
class DeliveryReceipt:
    provider: str
    provider_reference: str
    status: ReceiptStatus
    detail: str | None = None


class SmsProvider(Protocol):
    """Implemented in adapters/providers/. Receipts arrive later: over HTTP (`POST /v1/receipts/{provider}`)
    or, for SMPP, as deliver_sm PDUs handed to the callback given at construction."""

    name: str

    async def send(self, message: OutgoingSms) -> SendResult: ...

    async def close(self) -> None: ...

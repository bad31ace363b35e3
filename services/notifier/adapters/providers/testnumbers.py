"""Test numbers (like GOV.UK Notify's): any provider answers them without sending anything.

Producers use them in integration tests to drive a notification to each final state.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.notifier.adapters.providers.base import ReceiptCallback, ReceiptEmitter
from services.notifier.domain.sending import DeliveryReceipt, OutgoingSms, ReceiptStatus, SendResult, SmsProvider


@dataclass(frozen=True)
class TestNumber:
    __test__ = False  # not a pytest test class

    receipt: ReceiptStatus | None  # the receipt that follows an accepted send
    send_error: str | None = None  # the provider refuses the message itself
    permanent: bool = False
    answer_lost: bool = False  # the provider takes it but its answer never comes (unknown), the receipt does


TEST_NUMBERS: dict[str, TestNumber] = {
    "+84900000001": TestNumber(ReceiptStatus.DELIVERED),
    "+84900000002": TestNumber(ReceiptStatus.PERMANENT_FAILURE),
    "+84900000003": TestNumber(ReceiptStatus.TEMPORARY_FAILURE),
    "+84900000004": TestNumber(None, send_error="test number: rejected by the provider", permanent=True),
    "+84900000005": TestNumber(None, send_error="test number: provider temporarily unavailable"),
    "+84900000006": TestNumber(ReceiptStatus.DELIVERED, answer_lost=True),
}


class TestNumbersShortCircuit:
    """Wraps a provider: test numbers never reach it, every other message does."""

    __test__ = False

    def __init__(self, inner: SmsProvider, on_receipt: ReceiptCallback | None) -> None:
        self.inner = inner
        self.name = inner.name
        self._receipts = ReceiptEmitter(on_receipt)

    async def send(self, message: OutgoingSms) -> SendResult:
        number = TEST_NUMBERS.get(message.to_e164)
        if number is None:
            return await self.inner.send(message)
        if number.send_error is not None:
            return SendResult(accepted=False, error=number.send_error, permanent=number.permanent, provider=self.name)
        if number.answer_lost:  # the receipt quotes our reference, as gateways do with a request id
            self._receipts.emit(DeliveryReceipt(self.name, message.notification_id, ReceiptStatus.DELIVERED, "test"))
            error = "test number: no answer from the provider (it may have the message)"
            return SendResult(accepted=False, error=error, provider=self.name, unknown=True, reason="provider_timeout")
        reference = f"test-{uuid.uuid4().hex}"
        if number.receipt is not None:
            self._receipts.emit(DeliveryReceipt(self.name, reference, number.receipt, "test number"))
        return SendResult(accepted=True, provider_reference=reference, provider=self.name)

    async def start(self) -> None:
        start = getattr(self.inner, "start", None)
        if start is not None:
            await start()

    async def close(self) -> None:
        await self._receipts.drain()
        await self.inner.close()

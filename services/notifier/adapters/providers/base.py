"""What every provider shares: the receipt callback type and background receipt delivery."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from services.notifier.domain.sending import DeliveryReceipt

ReceiptCallback = Callable[[DeliveryReceipt], Awaitable[None]]

log = logging.getLogger(__name__)


class ReceiptEmitter:
    """Hands receipts to the notifier's callback from background tasks, after `send()` has returned.

    A receipt may still reach the callback before the caller has stored the send result (as with any real
    gateway), so the callback must accept a receipt for a reference it does not know yet.
    """

    def __init__(self, callback: ReceiptCallback | None) -> None:
        self._callback = callback
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def enabled(self) -> bool:
        return self._callback is not None

    def emit(self, receipt: DeliveryReceipt, delay_seconds: float = 0.0) -> None:
        if self._callback is None:
            return
        task = asyncio.get_running_loop().create_task(self._deliver(self._callback, receipt, delay_seconds))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _deliver(callback: ReceiptCallback, receipt: DeliveryReceipt, delay_seconds: float) -> None:
        if delay_seconds:
            await asyncio.sleep(delay_seconds)
        try:
            await callback(receipt)
        except Exception:
            log.exception("receipt callback failed (provider=%s status=%s)", receipt.provider, receipt.status)

    async def drain(self) -> None:
        """Wait for the receipts already handed out (called by the providers' close())."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

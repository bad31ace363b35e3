"""Shared test helpers: messages with Vietnamese text and a receipt collector."""

from __future__ import annotations

import asyncio
import itertools

from services.notifier.domain.sending import DeliveryReceipt, Encoding, OutgoingSms

VIETNAMESE_TEXT = (
    "UBND xã Lâm Thao: Hồ sơ 000.00.12.H07-260301-0001 của ông/bà đã được tiếp nhận, hẹn trả kết quả ngày 05/03/2026."
)
UNACCENTED_TEXT = (
    "UBND xa Lam Thao: Ho so 000.00.12.H07-260301-0001 da duoc tiep nhan, hen tra ngay 05/03/2026. @{}[]~^"
)
_ids = itertools.count(1)


def sms(
    text: str = VIETNAMESE_TEXT,
    to: str = "+84912345678",
    encoding: Encoding = Encoding.UCS2,
    segments: int = 2,
    sender: str | None = "UBND LamThao",
) -> OutgoingSms:
    return OutgoingSms(f"notif-{next(_ids)}", to, text, encoding, segments, sender)


class Receipts:
    """The receipt callback a test gives a provider; `wait(n)` returns once n receipts arrived."""

    def __init__(self) -> None:
        self.received: list[DeliveryReceipt] = []
        self._changed = asyncio.Event()

    async def __call__(self, receipt: DeliveryReceipt) -> None:
        self.received.append(receipt)
        self._changed.set()

    async def wait(self, count: int, timeout: float = 10.0) -> list[DeliveryReceipt]:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.received

"""A burst larger than one dispatch batch leaves without waiting a dispatch interval per batch."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import timedelta

import pytest

from services.notifier.service_layer.dispatcher import DispatchSettings
from tests.factories import dossier_event
from tests.notifier.core_helpers import core
from tests.notifier.helpers import FakeClock, eventually, vn

pytestmark = pytest.mark.timeout(120)
PATIENCE = 60.0  # a bound for a loaded machine; the interval below is an hour


def accepted(number: int) -> dict[str, object]:
    applicant = {"kind": "citizen", "name": "Trần Văn Bình", "phone": f"09123450{number:02d}", "sms_consent": True}
    return dossier_event("dossier.accepted", f"HS-BURST-{number}", applicant=applicant)


async def test_every_due_sms_is_sent_when_a_burst_fills_several_batches(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    settings = DispatchSettings(batch_size=2, sweep_interval=timedelta(hours=1))
    async with core(database_url, clock, dispatch=settings) as c:
        await c.take(*(accepted(number) for number in range(7)))
        loop = asyncio.create_task(c.dispatcher.run(interval=3600))
        try:

            async def all_sent() -> bool:
                return len(await c.rows(status="sent")) == 7

            await eventually(all_sent, timeout=PATIENCE)
        finally:
            loop.cancel()
            with suppress(asyncio.CancelledError):
                await loop
        sent = await c.rows(status="sent")
    assert sorted(row.dossier_code for row in sent) == [f"HS-BURST-{number}" for number in range(7)]
    assert sorted(message.to_e164 for message in c.provider.sent) == [f"+849123450{n:02d}" for n in range(7)]

"""Two notifier dispatchers on one PostgreSQL (two replicas) drain a burst of 5,000 due messages through the
outbox provider: `FOR UPDATE SKIP LOCKED` hands each message to one replica, so each is sent exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from services.notifier.adapters.providers import OutboxSettings, read_outbox
from services.notifier.adapters.providers.outbox import OutboxProvider
from services.notifier.domain.policy import Limits
from services.notifier.service_layer.dispatcher import DispatchSettings
from tests.factories import dossier_event
from tests.notifier.core_helpers import Core, core
from tests.notifier.helpers import FakeClock, vn
from tests.scale.postgres_helpers import fresh_postgres, require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(600)]
BURST = 5000
INTAKE_BATCH = 500


async def drain(replica: Core) -> int:
    """Run ticks until a tick finds nothing due; the number of messages this replica claimed."""
    claimed = 0
    while True:
        outcome = await replica.dispatcher.run_once()
        if outcome.claimed == 0 and outcome.skipped == 0:
            return claimed
        claimed += outcome.claimed


async def test_each_message_sent_once_when_two_replicas_dispatch_a_burst(tmp_path: Path) -> None:
    require_postgres()
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    outbox = tmp_path / "sms-outbox.jsonl"
    dispatch = DispatchSettings(batch_size=100, sweep_interval=timedelta(hours=1))
    events = [
        dossier_event(
            "dossier.accepted",
            f"000.00.30.H04-260302-{index:05d}",
            applicant={"kind": "citizen", "name": "Trần Văn Bình", "phone": f"09{index:08d}", "sms_consent": True},
        )
        for index in range(BURST)
    ]
    async with fresh_postgres() as database_url:
        providers = [OutboxProvider(OutboxSettings(path=outbox, immediate_receipt=False)) for _ in range(2)]
        async with (
            core(database_url, clock, dispatch=dispatch, limits=Limits(), sender=providers[0]) as first,
            core(database_url, clock, dispatch=dispatch, sender=providers[1]) as second,
        ):
            for start in range(0, BURST, INTAKE_BATCH):
                await first.take(*events[start : start + INTAKE_BATCH])
            claimed = await asyncio.gather(drain(first), drain(second))
            statuses = Counter(row.status for row in await first.rows())
        for provider in providers:
            await provider.close()

    lines = read_outbox(outbox)
    sent_ids = Counter(line["notification_id"] for line in lines)
    assert len(lines) == BURST
    assert len(sent_ids) == BURST
    assert max(sent_ids.values()) == 1
    assert len({line["to"] for line in lines}) == BURST
    assert statuses == {"sent": BURST}
    assert sum(claimed) == BURST
    assert all(count > 0 for count in claimed)  # both replicas took part

"""Where the durable consumers start, and what they read."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.notifier.helpers import FakeClock, connected, eventually, publish, running_notifier, settings_for, vn

pytestmark = pytest.mark.timeout(120)


async def test_stream_history_is_not_read_when_a_new_consumer_starts_from_new_events(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    settings = settings_for(private_nats.url, database_url, tmp_path, start_from="new")
    async with connected(private_nats.url) as (_client, js):
        await publish(js, [dossier_event("dossier.accepted", "HS-history")])
        async with running_notifier(settings, clock) as notifier:
            await publish(js, [dossier_event("dossier.accepted", "HS-new", event_id="after-start")])
            rows = await eventually(notifier.notifications)

            assert [row["dossier_code"] for row in rows] == ["HS-new"]

"""The early-warning sweep reads open dossiers a page at a time: with pages smaller than the store, every dossier
is still decided and alerted exactly once."""

from __future__ import annotations

from typing import Any

import pytest

from services.indicators.adapters import paging
from services.runtime.nats.embedded import EmbeddedNats
from tests.indicators.app_helpers import connected, eventually, publish
from tests.indicators.test_warning_service import (
    PATIENCE,
    VN_MONDAY_8AM,
    Clock,
    accepted,
    after_sweeps,
    alerts,
    dossier_known,
    running,
    stream_alerts,
    warning_settings,
)

pytestmark = pytest.mark.timeout(300)
CODES = [f"HS-PG-{number}" for number in range(7)]


async def test_every_overdue_dossier_is_alerted_once_when_the_sweep_reads_many_pages(
    private_nats: EmbeddedNats, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    clock = Clock(VN_MONDAY_8AM)
    settings = warning_settings(private_nats.url, database_url)
    async with connected(private_nats.url) as (_client, js), running(settings, clock) as api:
        await publish(js, [accepted(code, due_at="2026-03-02T17:00:00+07:00") for code in CODES])
        await dossier_known(api, CODES[-1])
        clock.advance(hours=24)

        async def all_published() -> list[dict[str, Any]] | None:
            found = [item for item in await alerts(api, kind="overdue", limit="100") if item["published"]]
            return found if len(found) >= len(CODES) else None

        overdue = await eventually(all_published, timeout=PATIENCE)
        await after_sweeps(api, 3)
        published = [await stream_alerts(js, code) for code in CODES]
    assert sorted(item["alert_id"] for item in overdue) == [f"overdue:{code}" for code in CODES]
    assert [[msg_id for _, msg_id, _ in messages] for messages in published] == [[f"overdue:{code}"] for code in CODES]

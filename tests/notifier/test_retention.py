"""The running notifier purges personal data older than its retention by itself (no cron, no CLI)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from services.runtime.db import create_engine
from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.notifier.helpers import FakeClock, connected, eventually, publish, running_notifier, settings_for, vn

pytestmark = pytest.mark.timeout(120)


def _accepted(code: str, time: str) -> dict[str, Any]:
    person = {"kind": "citizen", "name": "Nguyễn Thị Hồng Nhung", "phone": "0912345678", "sms_consent": True}
    return dossier_event("dossier.accepted", code, time=time, event_id=f"{code}/accepted", applicant=person)


async def _personal_data(database_url: str) -> dict[str, tuple[bool, bool]]:
    """Per dossier: (its contact is stored or its steps are, its notification still holds a phone or a text)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            contacts = set((await connection.execute(text("SELECT dossier_code FROM notifier_contacts"))).scalars())
            contacts |= set(
                (await connection.execute(text("SELECT dossier_code FROM notifier_dossier_steps"))).scalars()
            )
            rows = await connection.execute(
                text("SELECT dossier_code, phone_encrypted IS NOT NULL OR text IS NOT NULL FROM notifier_notifications")
            )
            return {code: (code in contacts, bool(held)) for code, held in rows}
    finally:
        await engine.dispose()


async def test_service_purges_rows_older_than_the_retention_and_keeps_newer_when_it_runs(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    settings = settings_for(
        private_nats.url, database_url, tmp_path, retention_days=30, purge_interval_hours=0.2 / 3600
    )
    async with (
        connected(private_nats.url) as (_client, js),
        running_notifier(settings, clock) as notifier,
    ):
        await publish(js, [_accepted("HS-old", "2026-03-02T08:15:00+07:00")])
        await eventually(lambda: notifier.notifications(dossier_code="HS-old"))
        clock.advance(timedelta(days=31))
        await publish(js, [_accepted("HS-new", "2026-04-02T08:15:00+07:00")])
        await eventually(lambda: notifier.notifications(dossier_code="HS-new"))

        async def purged() -> dict[str, tuple[bool, bool]] | None:
            found = await _personal_data(database_url)
            return found if found.get("HS-old") == (False, False) else None

        found = await eventually(purged)

    assert found == {"HS-old": (False, False), "HS-new": (True, True)}

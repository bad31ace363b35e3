"""What fuzzing the notifier API found (tests/fuzz), each kept as a regression test."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.runtime.nats.embedded import EmbeddedNats
from tests.notifier.helpers import OPERATOR, FakeClock, running_notifier, settings_for, vn

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


async def test_url_text_is_refused_with_422_naming_it_when_it_holds_a_nul(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    """`?dossier_code=%00` answered 500 on PostgreSQL, which refuses NUL in text."""
    settings = settings_for(private_nats.url, database_url, tmp_path)
    async with running_notifier(settings, FakeClock(vn("2026-03-02T08:15:30"))) as notifier:
        by_code = await notifier.api.get("/v1/notifications", params={"dossier_code": "HS\x00"}, headers=OPERATOR)
        by_id = await notifier.api.get("/v1/notifications/n%00", headers=OPERATOR)
        unknown = await notifier.api.get("/v1/notifications/khong-co", headers=OPERATOR)
    assert (by_code.status_code, by_id.status_code, unknown.status_code) == (422, 422, 404)
    assert [error["field"] for error in by_code.json()["errors"]] == ["query.dossier_code"]
    assert [error["field"] for error in by_id.json()["errors"]] == ["path.notification_id"]

"""POST /v1/lookup: a dossier code and the last four digits of its applicant's phone are found or "không tìm
thấy" (whatever is wrong); attempts per dossier code are limited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.notifier.helpers import (
    OPERATOR,
    FakeClock,
    connected,
    eventually,
    publish,
    running_notifier,
    settings_for,
    vn,
)

pytestmark = pytest.mark.timeout(120)


async def test_lookup_finds_the_dossier_only_when_the_phone_suffix_matches(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    settings = settings_for(private_nats.url, database_url, tmp_path, lookup_attempts_per_dossier=4)
    async with connected(private_nats.url) as (_client, js), running_notifier(settings, clock) as notifier:
        await publish(js, [dossier_event("dossier.accepted", "HS-LOOKUP-1")])  # phone 0912345678
        await eventually(lambda: notifier.notifications(dossier_code="HS-LOOKUP-1"))

        async def ask(code: str, last4: Any, headers: dict[str, str] = OPERATOR) -> tuple[int, Any]:
            body = {"dossier_code": code, "phone_last4": last4}
            answer = await notifier.api.post("/v1/lookup", json=body, headers=headers)
            return answer.status_code, answer.json()

        right = await ask("HS-LOOKUP-1", "5678")
        wrong = await ask("HS-LOOKUP-1", "1234")
        unknown = await ask("HS-NONE", "5678")
        malformed = await ask("HS-LOOKUP-1", "56a8")
        no_key = await ask("HS-LOOKUP-1", "5678", headers={})
        third = await ask("HS-LOOKUP-1", "5678")
        fourth = await ask("HS-LOOKUP-1", "5678")
        limited = await ask("HS-LOOKUP-1", "5678")

    assert right == (200, {"dossier_code": "HS-LOOKUP-1", "found": True})
    assert (wrong[0], wrong[1]["detail"]) == (404, "không tìm thấy")
    assert (unknown[0], unknown[1]["detail"]) == (404, "không tìm thấy")
    assert (malformed[0], malformed[1]["errors"][0]["field"]) == (422, "body.phone_last4")
    assert no_key[0] == 401
    # the fifth counted attempt on one code is refused even with the right suffix (422 and 401 do not count)
    assert [third[0], fourth[0], limited[0]] == [200, 200, 429]
    assert limited[1]["detail"] == "quá nhiều lần tra cứu hồ sơ này; vui lòng thử lại sau"

"""GOV.UK Notify-style test numbers drive a notification to each final state through the real providers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.notifier.helpers import FakeClock, connected, eventually, publish, running_notifier, settings_for, vn

pytestmark = pytest.mark.timeout(120)


async def test_each_test_number_ends_in_its_documented_status_when_a_dossier_is_accepted(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    numbers = {
        "0900000001": ("delivered", None),
        "0900000002": ("permanent-failure", "delivery_report"),
        "0900000003": ("temporary-failure", "delivery_report"),
        "0900000004": ("permanent-failure", "provider_rejected"),
        "0900000006": ("delivered", None),  # unknown at send (answer lost), then settled by its receipt
    }
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with (
        connected(private_nats.url) as (_client, js),
        running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier,
    ):
        events = []
        for number, phone in enumerate([*numbers, "0900000005"]):
            person = {"kind": "citizen", "name": "Lê Thị Thu", "phone": phone, "sms_consent": True}
            events.append(dossier_event("dossier.accepted", f"HS-{phone}", applicant=person, event_id=f"t-{number}"))
        await publish(js, events)

        async def settled() -> dict[str, Any]:
            rows = {row["dossier_code"]: row for row in await notifier.notifications()}
            done = all(rows.get(f"HS-{phone}", {}).get("status") == status for phone, (status, _) in numbers.items())
            unavailable = rows.get("HS-0900000005", {})
            retried = (unavailable.get("status"), unavailable.get("attempts")) == ("created", 1)
            return rows if done and retried else {}

        rows = await eventually(settled)

        assert {phone: (rows[f"HS-{phone}"]["status"], rows[f"HS-{phone}"]["reason"]) for phone in numbers} == numbers
        unavailable = rows["HS-0900000005"]  # the provider is "temporarily unavailable": retried later
        assert (unavailable["status"], unavailable["attempts"], unavailable["detail"]) == (
            "created",
            1,
            "test number: provider temporarily unavailable",
        )
        assert notifier.outbox() == []  # test numbers never reach a real provider

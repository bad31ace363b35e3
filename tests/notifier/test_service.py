"""Acceptance: the running notifier against a real nats-server, a real database and the real outbox provider,
with an injected clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from services.runtime.embedded_nats import EmbeddedNats
from tests.factories import dossier_event
from tests.notifier.helpers import (
    FakeClock,
    connected,
    eventually,
    metric_value,
    publish,
    running_notifier,
    settings_for,
    vn,
)

pytestmark = pytest.mark.timeout(120)
ACCEPTED_TEXT = (
    "UBND xã Lâm Thao: Hồ sơ HS-001 của ông/bà đã được tiếp nhận. Hẹn trả kết quả ngày 05/03/2026."
)


def accepted(code: str = "HS-001", time: str = "2026-03-02T08:15:00+07:00", **applicant: Any) -> dict[str, Any]:
    person = {"kind": "citizen", "name": "Nguyễn Thị Hồng Nhung", "phone": "0912345678", "sms_consent": True}
    person.update(applicant)
    return dossier_event("dossier.accepted", code, time=time, applicant=person)


async def test_exactly_one_correct_vietnamese_sms_when_a_dossier_is_accepted(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with (
        connected(private_nats.url) as (client, js),
        running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier,
    ):
        status_events = await client.subscribe("dvc.notify.status.>")
        await publish(js, [dossier_event("dossier.submitted", "HS-001"), accepted()])

        async def delivered() -> list[dict[str, Any]]:
            rows = await notifier.notifications(dossier_code="HS-001")
            return rows if rows and rows[0]["status"] == "delivered" else []

        rows = await eventually(delivered)
        sent = notifier.outbox()
        assert len(sent) == 1
        assert (sent[0]["to"], sent[0]["text"]) == ("+84912345678", ACCEPTED_TEXT)
        assert (sent[0]["encoding"], sent[0]["segments"], sent[0]["sender"]) == ("UCS-2", 2, "UBND LamThao")
        assert len(rows) == 1
        row = rows[0]
        assert (row["recipient"], row["template"], row["text"]) == ("09******78", "citizen.accepted", ACCEPTED_TEXT)
        assert row["status_label"] == "Đã đến máy người nhận"

        seen = []
        async for message in status_events.messages:
            seen.append(message)
            if message.subject == "dvc.notify.status.delivered":
                break
        assert [m.subject.rsplit(".", 1)[1] for m in seen] == ["created", "sending", "sent", "delivered"]
        assert all(b"0912345678" not in m.data and b"84912345678" not in m.data for m in seen)
        assert orjson.loads(seen[-1].data)["notification_id"] == row["id"]

        metrics = await notifier.metrics()
        labels = {"template": "citizen.accepted", "status": "delivered"}
        assert metric_value(metrics, "dvc_notifier_notifications_total", **labels) == 1.0
        assert metric_value(metrics, "dvc_notifier_sms_segments_total", provider="outbox", encoding="UCS-2") == 2.0
        assert "912345678" not in metrics

"""POST /v1/alerts/alertmanager: an operations alert from Alertmanager becomes one SMS to the officers (staff
directory unit `operators`, or the alert's `unit` label), once per fingerprint and startsAt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.runtime.nats.embedded import EmbeddedNats
from tests.notifier.helpers import OPERATOR, FakeClock, eventually, running_notifier, settings_for, vn

STAFF = 'units:\n  operators: "0987 654 321"\n  VP-UBND: "0162 345 6789"\n'


def webhook(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {"version": "4", "status": "firing", "receiver": "officers", "alerts": list(alerts)}


def alert(fingerprint: str, starts_at: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "DvcPipelineStalled", "severity": "critical", **labels},
        "annotations": {"summary": "Sự kiện vẫn đến nhưng chỉ tiêu không được cập nhật"},
        "startsAt": starts_at,
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": fingerprint,
    }


async def test_one_sms_per_alert_when_alertmanager_repeats_it(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    staff = tmp_path / "staff.yaml"
    staff.write_text(STAFF, encoding="utf-8")
    settings = settings_for(private_nats.url, database_url, tmp_path, staff_directory=staff)
    clock = FakeClock(vn("2026-03-04T10:00:00"))
    firing = alert("a1b2c3", "2026-03-04T02:59:00Z")
    async with running_notifier(settings, clock) as notifier:
        for _ in range(3):  # Alertmanager's repeat_interval, or two replicas
            answer = await notifier.api.post("/v1/alerts/alertmanager", json=webhook(firing), headers=OPERATOR)
            assert answer.status_code == 200, answer.text
        resolved = alert("a1b2c3", "2026-03-04T02:59:00Z", status="resolved")
        answer = await notifier.api.post("/v1/alerts/alertmanager", json=webhook(resolved), headers=OPERATOR)
        assert answer.json() == {"received": 1, "firing": 0}
        sent = await eventually(lambda: notifier.outbox_of(1))
        await notifier.dispatcher.run_once()

        assert [(line["to"], line["text"]) for line in notifier.outbox()] == [
            (
                "+84987654321",
                "DVC Pulse canh bao van hanh (critical): Su kien van den nhung chi tieu khong duoc cap nhat. "
                "Xem huong dan DvcPipelineStalled trong docs/runbooks.",
            )
        ]
        assert len(sent) == 1


async def test_each_alert_goes_to_its_unit_when_alerts_carry_a_unit_label(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    staff = tmp_path / "staff.yaml"
    staff.write_text(STAFF, encoding="utf-8")
    settings = settings_for(private_nats.url, database_url, tmp_path, staff_directory=staff)
    clock = FakeClock(vn("2026-03-04T10:00:00"))
    async with running_notifier(settings, clock) as notifier:
        stalled = alert("a1b2c3", "2026-03-04T02:00:00Z", unit="VP-UBND")
        down = alert("d4e5f6", "2026-03-04T02:50:00Z", alertname="DvcServiceDown")
        answer = await notifier.api.post("/v1/alerts/alertmanager", json=webhook(stalled, down), headers=OPERATOR)
        assert answer.json() == {"received": 2, "firing": 2}
        sent = await eventually(lambda: notifier.outbox_of(2))

        assert sorted((line["to"], line["text"].rsplit(" ", 3)[-3]) for line in sent) == [
            ("+84323456789", "DvcPipelineStalled"),  # 0162 is the old prefix of 0326
            ("+84987654321", "DvcServiceDown"),
        ]


async def test_a_payload_without_alerts_is_refused_naming_the_field_when_posted(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(private_nats.url, database_url, tmp_path)
    async with running_notifier(settings, FakeClock(vn("2026-03-04T10:00:00"))) as notifier:
        answer = await notifier.api.post("/v1/alerts/alertmanager", json={"version": "4"}, headers=OPERATOR)
        unauthenticated = await notifier.api.post("/v1/alerts/alertmanager", json=webhook())

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "alerts"
    assert unauthenticated.status_code == 401

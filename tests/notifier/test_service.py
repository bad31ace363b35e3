"""Acceptance: the running notifier against a real nats-server, a real database and the real outbox provider,
with an injected clock."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.contracts.alerts import (
    TaskAlertKind,
    TaskAlertRaised,
)
from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.notifier.alert_helpers import at_risk_alert, staff_directory
from tests.notifier.helpers import (
    OPERATOR,
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
    "Trung tâm Phục vụ hành chính công xã Lâm Thao: Hồ sơ HS-001 của ông/bà đã được tiếp nhận. "
    "Hẹn trả kết quả ngày 05/03/2026."
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
        assert metric_value(metrics, "dvc_notifier_provider_send_seconds_count", provider="outbox") == 1.0
        assert metric_value(metrics, "dvc_notifier_events_total", kind="dossier.accepted") == 1.0
        assert metric_value(metrics, "dvc_notifier_provider_up", provider="outbox") == 1.0
        # no send failed, and the failure series exist at 0 (the SMS failure-ratio panel reads 0, not no data)
        assert metric_value(metrics, "dvc_notifier_provider_sends_total", provider="outbox", outcome="failed") == 0.0
        assert metric_value(metrics, "dvc_notifier_provider_sends_total", provider="outbox", outcome="refused") == 0.0
        assert "912345678" not in metrics


async def test_no_sms_when_the_applicant_did_not_consent(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with (
        connected(private_nats.url) as (_client, js),
        running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier,
    ):
        await publish(js, [accepted(sms_consent=False)])
        rows = await eventually(lambda: notifier.notifications(dossier_code="HS-001"))
        await notifier.dispatcher.run_once()

        assert [(r["status"], r["reason"], r["recipient"], r["text"]) for r in rows] == [
            ("skipped", "no_consent", None, None)
        ]
        assert rows[0]["reason_label"] == "Người nộp hồ sơ không đồng ý nhận tin nhắn"
        assert notifier.outbox() == []


async def test_sms_is_held_until_seven_when_the_event_arrives_at_two_in_the_morning(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-03T02:00:05"))
    async with (
        connected(private_nats.url) as (_client, js),
        running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier,
    ):
        await publish(js, [accepted(time="2026-03-03T02:00:00+07:00")])
        rows = await eventually(lambda: notifier.notifications(dossier_code="HS-001"))
        assert (rows[0]["status"], rows[0]["send_after"]) == ("created", "2026-03-03T00:00:00Z")  # 07:00 in Vietnam
        clock.set(vn("2026-03-03T06:59:59"))
        await notifier.dispatcher.run_once()
        assert notifier.outbox() == []
        assert metric_value(await notifier.metrics(), "dvc_notifier_queue_depth", state="scheduled") == 1.0

        clock.set(vn("2026-03-03T07:00:00"))
        notifier.dispatcher.poke()
        sent = await eventually(notifier.outbox)

        assert [line["text"] for line in sent] == [ACCEPTED_TEXT]


async def test_no_second_sms_when_the_same_event_is_delivered_twice(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with (
        connected(private_nats.url) as (_client, js),
        running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier,
    ):
        event = accepted()
        await publish(js, [event])
        await eventually(notifier.outbox)
        await publish(js, [event], msg_id_suffix=":resent")  # a second copy in the stream, same (source, id)

        async def all_acked() -> bool:
            info = await js.consumer_info("DVC_EVENTS", "notifier")
            return info.delivered.stream_seq == 2 and info.num_ack_pending == 0 and info.num_pending == 0

        await eventually(all_acked)
        await notifier.dispatcher.run_once()

        assert len(notifier.outbox()) == 1
        assert len(await notifier.notifications(dossier_code="HS-001")) == 1


async def test_no_citizen_sms_when_the_event_is_older_than_a_day(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-05T09:00:00"))
    async with (
        connected(private_nats.url) as (_client, js),
        running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier,
    ):
        await publish(js, [accepted(time="2026-03-02T08:15:00+07:00")])  # a back-filled import
        rows = await eventually(lambda: notifier.notifications(dossier_code="HS-001"))
        await notifier.dispatcher.run_once()

        assert [(r["status"], r["reason"]) for r in rows] == [("skipped", "stale_event")]
        assert rows[0]["reason_label"] == "Sự kiện đã cũ (nhập bù hoặc phát lại), không nhắn tin"
        assert notifier.outbox() == []


async def test_opt_out_wins_when_a_message_is_waiting_and_when_a_new_event_arrives(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-03T02:00:05"))
    async with (
        connected(private_nats.url) as (_client, js),
        running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier,
    ):
        await publish(js, [accepted(time="2026-03-03T02:00:00+07:00")])
        await eventually(lambda: notifier.notifications(dossier_code="HS-001"))

        response = await notifier.api.post("/v1/opt-outs", json={"phone": "+84 912 345 678"}, headers=OPERATOR)
        assert response.status_code == 201
        assert response.json() == {"phone": "09******78", "opted_out": True, "already": False, "skipped_waiting": 1}

        clock.set(vn("2026-03-03T07:05:00"))
        await publish(js, [dossier_event("dossier.payment_requested", "HS-001", time="2026-03-03T07:04:00+07:00")])

        async def two() -> list[dict[str, Any]]:
            rows = await notifier.notifications(dossier_code="HS-001")
            return rows if len(rows) == 2 else []

        rows = await eventually(two)
        await notifier.dispatcher.run_once()

        assert sorted((r["template"], r["status"], r["reason"]) for r in rows) == [
            ("citizen.accepted", "skipped", "opted_out"),
            ("citizen.payment_requested", "skipped", "opted_out"),
        ]
        assert notifier.outbox() == []


async def test_validation_failed_and_nothing_sent_when_the_phone_is_invalid(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with (
        connected(private_nats.url) as (_client, js),
        running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier,
    ):
        await publish(js, [accepted(phone="0123 45")])
        rows = await eventually(lambda: notifier.notifications(dossier_code="HS-001"))
        await notifier.dispatcher.run_once()

        assert [(r["status"], r["reason"], r["recipient"]) for r in rows] == [
            ("validation-failed", "invalid_phone", None)
        ]
        assert rows[0]["status_label"] == "Không hợp lệ, không gửi"
        assert notifier.outbox() == []


async def test_officers_are_reminded_when_dossier_and_task_alerts_arrive(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    staff = staff_directory(tmp_path, units='  VP-UBND: "0162 345 6789"\n')
    clock = FakeClock(vn("2026-03-04T09:00:10"))
    settings = settings_for(private_nats.url, database_url, tmp_path, staff_directory=staff)
    at_risk = at_risk_alert("HS-001")
    due_soon = TaskAlertRaised(
        alert_id="due_soon:T-7:2026-03-06",
        kind=TaskAlertKind.DUE_SOON,
        task_id="T-7",
        title="Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
        owner_unit="VP-UBND",
        deadline=date(2026, 3, 6),
        progress_percent=40,
        raised_at=vn("2026-03-04T09:00:00"),
    )
    async with connected(private_nats.url) as (_client, js), running_notifier(settings, clock) as notifier:
        await js.publish("dvc.indicators.snapshot", b"{}", headers={"Nats-Msg-Id": "snapshot-1"})  # not read
        await js.publish("dvc.alerts.dossier.overdue", b"{broken", headers={"Nats-Msg-Id": "broken-1"})
        for subject, alert in (("dvc.alerts.dossier.at_risk", at_risk), ("dvc.alerts.task.due_soon", due_soon)):
            await js.publish(subject, alert.model_dump_json().encode(), headers={"Nats-Msg-Id": alert.alert_id})

        sent = await eventually(lambda: notifier.outbox_of(2))

        assert sorted((line["to"], line["encoding"], line["segments"], line["text"]) for line in sent) == [
            (
                "+84323456789",
                "GSM-7",
                1,
                'DVC Pulse: Nhiem vu "So hoa ho so, ket qua giai quyet thu tuc hanh chinh" (VP-UBND) den han ngay '
                "06/03/2026, tien do 40%. De nghi hoan thanh dung han.",
            ),
            (
                "+84987654321",
                "GSM-7",
                1,
                "DVC Pulse: Ho so HS-001 (TTHC 1.001193) sap qua han (17:00 ngay 05/03/2026). "
                "Khan truong xu ly; neu khong kip phai lap phieu xin loi, hen lai truoc han.",
            ),
        ]
        rows = await notifier.notifications(dossier_code="HS-001")
        assert [(r["audience"], r["recipient_ref"], r["recipient"]) for r in rows] == [
            ("officer", "CB-001", "09******21")
        ]
        dead = await js.get_last_msg("DVC_DLQ", "dvc.dlq.notifier")
        assert dead.data == b"{broken"
        assert dead.headers is not None
        assert dead.headers["Dvc-Error"].startswith("invalid: ")

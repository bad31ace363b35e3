"""The dispatcher on a real database: retries with backoff, failures, receipts in any order, expiry, quiet
hours, consent withdrawn before sending."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from services.contracts.alerts import DossierAlertRaised
from services.notifier.domain.incoming import from_dossier_alert
from services.notifier.domain.sending import DeliveryReceipt, ReceiptStatus, SendResult
from services.notifier.service_layer.dispatcher import DispatchSettings
from tests.factories import dossier_event
from tests.notifier.alert_helpers import at_risk_alert
from tests.notifier.core_helpers import core
from tests.notifier.helpers import FakeClock, vn

pytestmark = pytest.mark.timeout(60)
UNAVAILABLE = SendResult(accepted=False, error="gateway 503", provider="fake")


async def test_retried_with_backoff_then_sent_when_the_provider_is_briefly_unavailable(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock) as c:
        c.provider.answers = [UNAVAILABLE, UNAVAILABLE]
        await c.take(dossier_event("dossier.accepted", "HS-1"))

        await c.dispatcher.run_once()
        [row] = await c.rows()
        assert (row.status, row.attempts, row.send_after, row.detail) == (
            "created",
            1,
            clock() + timedelta(seconds=30),
            "gateway 503",
        )
        await c.dispatcher.run_once()  # not due yet
        assert (await c.rows())[0].attempts == 1

        clock.advance(timedelta(seconds=30))
        await c.dispatcher.run_once()
        [row] = await c.rows()
        assert (row.status, row.attempts, row.send_after) == ("created", 2, clock() + timedelta(seconds=60))

        clock.advance(timedelta(seconds=60))
        await c.dispatcher.run_once()
        [row] = await c.rows()
        assert (row.status, row.attempts, row.provider) == ("sent", 3, "fake")
        assert [message.to_e164 for message in c.provider.sent] == ["+84912345678"]


async def test_technical_failure_when_the_provider_stays_unavailable(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock, dispatch=DispatchSettings(max_attempts=2)) as c:
        c.provider.answers = [UNAVAILABLE, UNAVAILABLE]
        await c.take(dossier_event("dossier.accepted", "HS-1"))
        await c.dispatcher.run_once()
        clock.advance(timedelta(minutes=5))
        await c.dispatcher.run_once()

        [row] = await c.rows()
        assert (row.status, row.reason, row.attempts) == ("technical-failure", "retries_exhausted", 2)
        assert c.provider.sent == []


async def test_permanent_failure_without_retry_when_the_provider_rejects_the_number(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock) as c:
        c.provider.answers = [SendResult(accepted=False, error="unknown subscriber", permanent=True, provider="fake")]
        await c.take(dossier_event("dossier.accepted", "HS-1"))
        await c.dispatcher.run_once()
        clock.advance(timedelta(hours=1))
        await c.dispatcher.run_once()

        [row] = await c.rows()
        assert (row.status, row.reason, row.detail, row.attempts) == (
            "permanent-failure",
            "provider_rejected",
            "unknown subscriber",
            1,
        )


async def test_delivered_when_the_receipt_arrives_before_the_send_result_is_stored(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock) as c:
        applied_early = await c.dispatcher.on_receipt(DeliveryReceipt("fake", "ref-early", ReceiptStatus.DELIVERED))
        c.provider.answers = [SendResult(accepted=True, provider_reference="ref-early", provider="fake")]
        await c.take(dossier_event("dossier.accepted", "HS-1"))
        await c.dispatcher.run_once()

        [row] = await c.rows()
        assert applied_early is False
        assert (row.status, row.provider_reference) == ("delivered", "ref-early")


async def test_temporary_failure_when_no_receipt_comes_and_delivered_when_it_comes_late(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock, dispatch=DispatchSettings(receipt_timeout=timedelta(hours=1))) as c:
        await c.take(dossier_event("dossier.accepted", "HS-1"))
        await c.dispatcher.run_once()
        [row] = await c.rows()
        assert row.status == "sent"

        clock.advance(timedelta(minutes=61))
        outcome = await c.dispatcher.run_once()
        [row] = await c.rows()
        assert (outcome.expired, row.status, row.reason) == (1, "temporary-failure", "no_receipt")
        assert len(c.provider.sent) == 1  # never resent: a citizen never gets two

        assert await c.dispatcher.on_receipt(DeliveryReceipt("fake", row.provider_reference, ReceiptStatus.DELIVERED))
        [row] = await c.rows()
        assert (row.status, row.reason) == ("delivered", None)


async def test_receipt_changes_nothing_when_the_notification_already_has_a_final_status(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock) as c:
        await c.take(dossier_event("dossier.accepted", "HS-1"))
        await c.dispatcher.run_once()
        [row] = await c.rows()
        reference = row.provider_reference
        assert await c.dispatcher.on_receipt(DeliveryReceipt("fake", reference, ReceiptStatus.DELIVERED))
        late_failure = await c.dispatcher.on_receipt(
            DeliveryReceipt("fake", reference, ReceiptStatus.PERMANENT_FAILURE)
        )

        assert late_failure is False
        assert (await c.rows())[0].status == "delivered"


async def test_nothing_is_sent_at_night_when_the_dispatcher_catches_up_on_evening_messages(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T20:59:00"))
    async with core(database_url, clock) as c:
        await c.take(dossier_event("dossier.accepted", "HS-1", time="2026-03-02T20:58:00+07:00"))
        clock.set(vn("2026-03-02T21:30:00"))  # the dispatcher was down until after 21:00
        await c.dispatcher.run_once()
        assert c.provider.sent == []

        clock.set(vn("2026-03-03T07:00:00"))
        await c.dispatcher.run_once()
        assert len(c.provider.sent) == 1


async def test_held_message_is_skipped_when_consent_is_withdrawn_before_morning(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-03T02:00:05"))
    async with core(database_url, clock) as c:
        await c.take(dossier_event("dossier.accepted", "HS-1", time="2026-03-03T02:00:00+07:00"))
        clock.set(vn("2026-03-03T06:00:00"))
        applicant = {"kind": "citizen", "name": "Nguyễn Văn An", "phone": "0912345678", "sms_consent": False}
        await c.take(dossier_event("dossier.submitted", "HS-1", time="2026-03-03T05:59:00+07:00", applicant=applicant))
        clock.set(vn("2026-03-03T07:00:00"))
        outcome = await c.dispatcher.run_once()

        [row] = await c.rows()
        assert (outcome.skipped, row.status, row.reason, row.text) == (1, "skipped", "no_consent", None)
        assert c.provider.sent == []


async def test_officer_reminder_follows_the_staff_directory_when_the_file_changes(
    database_url: str, tmp_path: Path
) -> None:
    staff = tmp_path / "staff.csv"
    staff.write_text("code,phone\nCB-001,0987654321\n", encoding="utf-8")
    clock = FakeClock(vn("2026-03-04T09:00:10"))

    def alert(number: int) -> DossierAlertRaised:
        return at_risk_alert(f"HS-{number}", risk=None)

    async with core(database_url, clock, staff=staff) as c:
        await c.take_incoming([from_dossier_alert(alert(1), "Asia/Ho_Chi_Minh")])
        staff.write_text("code,phone\nCB-001,0912000111\n", encoding="utf-8")
        os.utime(staff, (1, 1))  # a different modification time, whatever the file system's resolution
        await c.take_incoming([from_dossier_alert(alert(2), "Asia/Ho_Chi_Minh")])
        await c.dispatcher.run_once()

        assert sorted(message.to_e164 for message in c.provider.sent) == ["+84912000111", "+84987654321"]

"""Intake on a real database: one notification per (event, template), the message for each step, contacts,
caps, duplicates, refused content, personal data at rest and its purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from services.notifier.domain.policy import Limits
from services.notifier.entrypoints.cli import run_purge
from tests.factories import dossier_event
from tests.notifier.core_helpers import core
from tests.notifier.helpers import FakeClock, vn

pytestmark = pytest.mark.timeout(60)
CENTRE = "Trung tâm Phục vụ hành chính công xã Lâm Thao"


def applicant(**overrides: Any) -> dict[str, Any]:
    person = {"kind": "citizen", "name": "Trần Văn Bình", "phone": "0912345678", "sms_consent": True}
    person.update(overrides)
    return person


async def test_one_notification_when_an_event_repeats_in_a_batch_and_across_batches(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock) as c:
        event = dossier_event("dossier.accepted", "HS-1")
        await c.take(event, event)
        await c.take(event)
        await c.dispatcher.run_once()

        assert len(await c.rows()) == 1
        assert len(c.provider.sent) == 1


async def test_each_step_that_matters_gets_its_vietnamese_message_when_later_events_carry_no_phone(
    database_url: str,
) -> None:
    steps = [
        ("dossier.submitted", {"applicant": applicant()}, None),
        ("dossier.transferred", {}, None),
        (
            "dossier.supplement_requested",
            {"reason": "Thiếu bản sao giấy khai sinh"},
            f"{CENTRE}: Hồ sơ HS-9 cần bổ sung: Thiếu bản sao giấy khai sinh. "
            "Đề nghị ông/bà bổ sung để tiếp tục giải quyết.",
        ),
        ("dossier.supplement_received", {}, None),
        (
            "dossier.payment_requested",
            {"fee_amount": 1250000},
            f"{CENTRE}: Hồ sơ HS-9 cần nộp phí, lệ phí 1.250.000 đồng. "
            "Có thể thanh toán trực tuyến tại dichvucong.gov.vn.",
        ),
        ("dossier.paid", {"fee_amount": 1250000}, None),
        (
            "dossier.rescheduled",
            {"new_due_at": "2026-03-16T10:00:00+07:00", "reason": "Cần xác minh thêm thông tin đất đai"},
            f"{CENTRE} xin lỗi ông/bà: hồ sơ HS-9 chưa có kết quả đúng hẹn. Lý do: Cần xác minh thêm thông tin đất "
            "đai. Hẹn trả kết quả mới: ngày 16/03/2026.",
        ),
        (
            "dossier.processed",
            {"result_electronic": False},
            f"{CENTRE}: Hồ sơ HS-9 đã có kết quả. "
            "Đề nghị mang giấy hẹn trả kết quả đến Trung tâm Phục vụ hành chính công xã để nhận.",
        ),
        (
            "dossier.returned",
            {"delivery": "postal"},
            f"{CENTRE}: Hồ sơ HS-9 đã được trả kết quả qua dịch vụ bưu chính. Cảm ơn ông/bà.",
        ),
    ]
    day = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    async with core(database_url, FakeClock(day)) as c:
        for number, (kind, data, _) in enumerate(steps):
            moment = day + timedelta(days=number)  # one a day: the per-dossier daily cap stays out of the way
            c.clock.set(moment + timedelta(seconds=5))
            await c.take(dossier_event(kind, "HS-9", time=moment.isoformat(), **data))
            await c.dispatcher.run_once()  # each message leaves before the next step (else it is superseded)

        assert [message.text for message in c.provider.sent] == [text for _, _, text in steps if text]
        assert {message.to_e164 for message in c.provider.sent} == {"+84912345678"}


async def test_refusal_and_stop_messages_name_the_reason_when_a_dossier_ends_badly(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock) as c:
        await c.take(
            dossier_event("dossier.submitted", "HS-2", applicant=applicant()),
            dossier_event("dossier.rejected", "HS-2", reason="Hồ sơ không thuộc thẩm quyền giải quyết"),
            dossier_event("dossier.submitted", "HS-3", applicant=applicant(phone="0987654321")),
            dossier_event("dossier.stopped", "HS-3", reason="Công dân không bổ sung hồ sơ đúng hạn"),
        )
        await c.dispatcher.run_once()

        assert sorted(message.text for message in c.provider.sent) == [
            f"{CENTRE}: Hồ sơ HS-2 không được tiếp nhận. Lý do: Hồ sơ không thuộc thẩm quyền giải quyết.",
            f"{CENTRE}: Hồ sơ HS-3 đã dừng xử lý. Lý do: Công dân không bổ sung hồ sơ đúng hạn. "
            "Đề nghị ông/bà liên hệ Trung tâm để được hướng dẫn.",
        ]


async def test_legacy_eleven_digit_number_is_converted_when_the_applicant_gives_one(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock) as c:
        await c.take(dossier_event("dossier.accepted", "HS-1", applicant=applicant(phone="0162 345 6789")))
        await c.dispatcher.run_once()

        assert [message.to_e164 for message in c.provider.sent] == ["+84323456789"]


async def test_message_is_skipped_when_the_dossier_daily_cap_is_reached(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock, limits=Limits(dossier_daily_cap=2)) as c:
        await c.take(
            dossier_event("dossier.accepted", "HS-1"),
            dossier_event("dossier.supplement_requested", "HS-1"),
            dossier_event("dossier.payment_requested", "HS-1"),
        )
        rows = await c.rows()

        assert sorted((row.template_id, row.status, row.reason) for row in rows) == [
            ("citizen.accepted", "created", None),
            ("citizen.payment_requested", "skipped", "dossier_cap"),
            ("citizen.supplement_requested", "created", None),
        ]


async def test_message_is_skipped_when_one_phone_reached_its_daily_cap_across_dossiers(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock, limits=Limits(citizen_daily_cap=2)) as c:
        await c.take(dossier_event("dossier.accepted", "HS-1"), dossier_event("dossier.accepted", "HS-2"))
        clock.advance(timedelta(hours=1))
        await c.take(dossier_event("dossier.accepted", "HS-3", time="2026-03-02T09:15:00+07:00"))
        clock.set(vn("2026-03-03T08:00:00"))  # a new day in Vietnam
        await c.take(dossier_event("dossier.accepted", "HS-4", time="2026-03-03T07:59:00+07:00"))

        statuses = {row.dossier_code: (row.status, row.reason) for row in await c.rows()}
        assert statuses == {
            "HS-1": ("created", None),
            "HS-2": ("created", None),
            "HS-3": ("skipped", "recipient_cap"),
            "HS-4": ("created", None),
        }


async def test_identical_message_is_skipped_when_a_producer_resends_an_event_under_a_new_id(
    database_url: str,
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock) as c:
        await c.take(dossier_event("dossier.accepted", "HS-1", event_id="first"))
        await c.take(dossier_event("dossier.accepted", "HS-1", event_id="second"))

        assert [(row.event_id, row.status, row.reason) for row in await c.rows()] == [
            ("first", "created", None),
            ("second", "skipped", "duplicate"),
        ]


async def test_validation_failed_when_a_reason_contains_a_citizen_id_number(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock) as c:
        await c.take(
            dossier_event("dossier.accepted", "HS-1"),
            dossier_event("dossier.supplement_requested", "HS-1", reason="Sai số CCCD 001 203 004 567 trên tờ khai"),
        )
        rows = {row.template_id: row for row in await c.rows()}

        refused = rows["citizen.supplement_requested"]
        assert (refused.status, refused.reason, refused.text, refused.phone_encrypted) == (
            "validation-failed",
            "citizen_id",
            None,
            None,
        )


async def test_late_older_submission_does_not_restore_consent_when_the_newer_event_withdrew_it(
    database_url: str,
) -> None:
    clock = FakeClock(vn("2026-03-02T10:00:00"))
    async with core(database_url, clock) as c:
        await c.take(
            dossier_event(
                "dossier.accepted", "HS-1", time="2026-03-02T09:00:00+07:00", applicant=applicant(sms_consent=False)
            )
        )
        await c.take(
            dossier_event("dossier.submitted", "HS-1", time="2026-03-02T08:00:00+07:00", applicant=applicant()),
            dossier_event("dossier.payment_requested", "HS-1", time="2026-03-02T09:30:00+07:00"),
        )

        assert [(row.template_id, row.reason) for row in await c.rows()] == [
            ("citizen.accepted", "no_consent"),
            ("citizen.payment_requested", "no_consent"),
        ]


async def test_phones_and_names_are_stored_encrypted_when_a_dossier_arrives(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock) as c:
        await c.take(dossier_event("dossier.accepted", "HS-1", applicant=applicant(name="Trần Văn Bình")))
        async with c.sessions() as session:
            contact = (await session.execute(text("SELECT * FROM notifier_contacts"))).mappings().one()
            notification = (await session.execute(text("SELECT * FROM notifier_notifications"))).mappings().one()
        stored = repr(dict(contact)) + repr(dict(notification))

        assert "912345678" not in stored
        assert "Bình" not in stored
        assert c.vault.decrypt(bytes(notification["phone_encrypted"])) == "+84912345678"
        assert c.vault.decrypt(bytes(contact["name_encrypted"])) == "Trần Văn Bình"


async def test_purge_removes_personal_data_when_it_is_older_than_the_retention(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock) as c:
        await c.take(dossier_event("dossier.accepted", "HS-old"))
        clock.set(vn("2026-06-20T08:15:30"))
        await c.take(dossier_event("dossier.accepted", "HS-new", time="2026-06-20T08:15:00+07:00"))

        purged = await run_purge(database_url, vn("2026-06-20T08:15:30") - timedelta(days=90))
        rows = {row.dossier_code: row for row in await c.rows()}
        async with c.sessions() as session:
            contacts = (await session.execute(text("SELECT dossier_code FROM notifier_contacts"))).scalars().all()

        assert (purged.notifications, purged.contacts) == (1, 1)
        old, new = rows["HS-old"], rows["HS-new"]
        assert (old.phone_encrypted, old.phone_hash, old.text, old.status) == (None, None, None, "created")
        assert new.phone_encrypted is not None
        assert new.text is not None
        assert contacts == ["HS-new"]


async def test_stop_reply_opts_the_phone_out_when_a_citizen_answers_huy(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock) as c:
        ignored = await c.optouts.inbound("outbox", "0912345678", "Cảm ơn")
        opted = await c.optouts.inbound("outbox", "0912345678", "Hủy")
        await c.take(dossier_event("dossier.accepted", "HS-1"))

        assert ignored is None
        assert opted is not None
        assert (opted.phone_masked, opted.created) == ("09******78", True)
        assert [(row.status, row.reason) for row in await c.rows()] == [("skipped", "opted_out")]


async def test_message_waits_for_the_contact_when_a_later_event_arrives_before_the_submission(
    database_url: str,
) -> None:
    clock = FakeClock(vn("2026-03-02T10:00:00"))
    async with core(database_url, clock) as c:
        await c.take(dossier_event("dossier.payment_requested", "HS-1", time="2026-03-02T09:59:00+07:00"))
        await c.dispatcher.run_once()
        [waiting] = await c.rows()
        assert (waiting.status, waiting.reason, waiting.send_after, c.provider.sent) == (
            "created",
            "awaiting_contact",
            None,
            [],
        )

        clock.advance(timedelta(minutes=5))  # the submission is redelivered later
        await c.take(
            dossier_event("dossier.submitted", "HS-1", time="2026-03-02T09:00:00+07:00", applicant=applicant())
        )
        await c.dispatcher.run_once()

        [row] = await c.rows()
        assert (row.status, row.reason) == ("sent", None)
        assert [(m.to_e164, m.text) for m in c.provider.sent] == [
            (
                "+84912345678",
                f"{CENTRE}: Hồ sơ HS-1 cần nộp phí, lệ phí 50.000 đồng. "
                "Có thể thanh toán trực tuyến tại dichvucong.gov.vn.",
            )
        ]


async def test_waiting_message_is_skipped_when_the_late_contact_has_no_consent_or_never_comes(
    database_url: str,
) -> None:
    clock = FakeClock(vn("2026-03-02T10:00:00"))
    async with core(database_url, clock) as c:
        await c.take(
            dossier_event("dossier.payment_requested", "HS-1", time="2026-03-02T09:59:00+07:00"),
            dossier_event("dossier.payment_requested", "HS-2", time="2026-03-02T09:59:00+07:00"),
        )
        await c.take(dossier_event("dossier.submitted", "HS-1", applicant=applicant(sms_consent=False)))
        clock.advance(timedelta(hours=25))
        await c.dispatcher.run_once()

        assert [(row.dossier_code, row.status, row.reason) for row in await c.rows()] == [
            ("HS-1", "skipped", "no_consent"),
            ("HS-2", "skipped", "no_contact"),
        ]
        assert c.provider.sent == []


async def test_business_is_addressed_as_an_organisation_and_postal_result_comes_by_post_when_so_filed(
    database_url: str,
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    company = applicant(kind="business", name="Công ty TNHH Lâm Thao Xanh", phone="0912345678")
    async with core(database_url, clock) as c:
        await c.take(dossier_event("dossier.accepted", "HS-B", channel="postal", applicant=company))
        await c.dispatcher.run_once()
        clock.advance(timedelta(days=1))
        await c.take(
            dossier_event(
                "dossier.processed", "HS-B", time=(clock() - timedelta(seconds=5)).isoformat(), result_electronic=False
            )
        )
        await c.dispatcher.run_once()

        assert [message.text for message in c.provider.sent] == [
            f"{CENTRE}: Hồ sơ HS-B của Quý tổ chức/doanh nghiệp đã được tiếp nhận. Hẹn trả kết quả ngày 05/03/2026.",
            f"{CENTRE}: Hồ sơ HS-B đã có kết quả. Kết quả sẽ được gửi qua dịch vụ bưu chính đến địa chỉ đã đăng ký.",
        ]


def test_centre_name_comes_from_the_setting_when_a_commune_configures_its_own() -> None:
    from services.notifier.adapters.config_files import load_templates

    templates = load_templates(centre_name="Trung tâm Phục vụ hành chính công xã Phật Tích")
    accepted = templates.get("citizen.accepted").render(
        {"dossier_code": "HS-1", "due_date": "05/03/2026", "addressee": "addressee_citizen"}
    )
    assert accepted.text == (
        "Trung tâm Phục vụ hành chính công xã Phật Tích: Hồ sơ HS-1 của ông/bà đã được tiếp nhận. "
        "Hẹn trả kết quả ngày 05/03/2026."
    )

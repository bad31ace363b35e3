"""The HTTP API of the running notifier: receipts, opt-outs, inbound replies, templates, errors; start-up
refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from services.notifier.bootstrap import create_app
from services.notifier.domain.templates import ConfigError
from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.notifier.helpers import (
    OPERATOR,
    PROVIDER,
    FakeClock,
    connected,
    eventually,
    publish,
    running_notifier,
    settings_for,
    vn,
)

pytestmark = pytest.mark.timeout(120)
QUIET_PROVIDERS = "[{kind: outbox, immediate_receipt: false, receipt_token: s3cret, receipt_token_in_query: true}]"


async def test_receipt_callback_moves_a_notification_to_delivered_when_the_token_matches(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    settings = settings_for(private_nats.url, database_url, tmp_path, providers=QUIET_PROVIDERS)
    async with connected(private_nats.url) as (_client, js), running_notifier(settings, clock) as notifier:
        await publish(js, [dossier_event("dossier.accepted", "HS-1")])

        async def sent() -> list[dict[str, Any]]:
            rows = await notifier.notifications(dossier_code="HS-1")
            return rows if rows and rows[0]["status"] == "sent" else []

        await eventually(sent)
        reference = notifier.outbox()[0]["provider_reference"]
        body = {"provider_reference": reference, "status": "DELIVRD"}

        refused = await notifier.api.post("/v1/receipts/outbox", json=body)
        accepted = await notifier.api.post("/v1/receipts/outbox", json=body, headers={"Authorization": "Bearer s3cret"})
        unknown = await notifier.api.post("/v1/receipts/vinaphone", json=body)
        broken = await notifier.api.post("/v1/receipts/outbox?token=s3cret", json={"status": "DELIVRD"})
        rows = await notifier.notifications(dossier_code="HS-1")

        assert refused.status_code == 401
        assert (accepted.status_code, accepted.json()) == (200, {"received": 1, "applied": 1})
        assert (unknown.status_code, unknown.headers["content-type"]) == (404, "application/problem+json")
        assert broken.status_code == 422
        assert broken.json()["errors"] == [{"field": "provider_reference", "reason": "missing"}]
        assert (rows[0]["status"], rows[0]["status_label"]) == ("delivered", "Đã đến máy người nhận")


async def test_opt_out_is_refused_with_the_field_when_the_phone_is_not_vietnamese_mobile(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier:
        invalid = await notifier.api.post("/v1/opt-outs", json={"phone": "024 3823 4567"}, headers=OPERATOR)
        missing = await notifier.api.post("/v1/opt-outs", json={}, headers=OPERATOR)
        first = await notifier.api.post("/v1/opt-outs", json={"phone": "0912345678"}, headers=OPERATOR)
        again = await notifier.api.post("/v1/opt-outs", json={"phone": "+84912345678"}, headers=OPERATOR)

        assert (invalid.status_code, invalid.json()["errors"][0]["field"]) == (422, "phone")
        assert missing.status_code == 422
        assert (first.json()["already"], again.json()["already"]) == (False, True)
        assert again.json()["phone"] == "09******78"


async def test_stop_reply_opts_out_and_other_replies_are_ignored_when_they_arrive_inbound(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with (
        connected(private_nats.url) as (_client, js),
        running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier,
    ):
        question = await notifier.api.post(
            "/v1/inbound/outbox", json={"from": "84912345678", "text": "Khi nào có?"}, headers=PROVIDER
        )
        stop = await notifier.api.post(
            "/v1/inbound/outbox", json={"msisdn": "84912345678", "message": "TỪ CHỐI"}, headers=PROVIDER
        )
        unknown = await notifier.api.post(
            "/v1/inbound/viettel", json={"from": "84912345678", "text": "STOP"}, headers=PROVIDER
        )
        no_text = await notifier.api.post("/v1/inbound/outbox", json={"from": "84912345678"}, headers=PROVIDER)
        await publish(js, [dossier_event("dossier.accepted", "HS-1")])
        rows = await eventually(lambda: notifier.notifications(dossier_code="HS-1"))

        assert question.json() == {"action": "ignored"}
        assert stop.json() == {"action": "opted_out", "phone": "09******78", "skipped_waiting": 0}
        assert unknown.status_code == 404
        assert (no_text.status_code, no_text.json()["errors"]) == (422, [{"field": "text", "reason": "missing"}])
        assert [(r["status"], r["reason"]) for r in rows] == [("skipped", "opted_out")]
        assert notifier.outbox() == []


async def test_every_template_is_listed_with_a_vietnamese_preview_when_templates_are_requested(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with running_notifier(settings_for(private_nats.url, database_url, tmp_path), clock) as notifier:
        response = await notifier.api.get("/v1/templates")
        templates = {item["id"]: item for item in response.json()}
        missing = await notifier.api.get("/v1/notifications/no-such-id", headers=OPERATOR)
        ready = await notifier.api.get("/readyz")

        assert len(templates) == 13
        payment = templates["citizen.payment_requested"]
        assert payment["preview"]["text"] == (
            "Trung tâm Phục vụ hành chính công xã Lâm Thao: Hồ sơ 000.00.12.H07-260302-0001 "
            "cần nộp phí, lệ phí 50.000 đồng. "
            "Có thể thanh toán trực tuyến tại dichvucong.gov.vn."
        )
        assert (payment["policy"], payment["preview"]["encoding"], payment["triggered_by"]) == (
            "keep-diacritics",
            "UCS-2",
            ["dossier.payment_requested"],
        )
        officer = templates["officer.dossier_overdue"]
        assert (officer["policy"], officer["preview"]["encoding"], officer["preview"]["segments"]) == (
            "unaccented",
            "GSM-7",
            1,
        )
        assert officer["preview"]["text"].isascii()
        assert all(item["worst_case_segments"] <= item["max_segments"] for item in templates.values())
        assert missing.status_code == 404
        assert ready.json() == {"status": "ready", "checks": ["consumers", "database", "nats", "streams"]}


def test_start_up_fails_with_a_clear_message_when_a_template_is_too_long(tmp_path: Path) -> None:
    broken = tmp_path / "templates.yaml"
    broken.write_text(
        "templates:\n"
        "  - {id: citizen.accepted, version: 2, audience: citizen, policy: keep-diacritics, max_segments: 1,\n"
        "     body: 'Hồ sơ {dossier_code} của ông/bà đã được tiếp nhận, hẹn trả kết quả ngày {due_date}.'}\n",
        encoding="utf-8",
    )
    settings = settings_for("nats://127.0.0.1:1", f"sqlite+aiosqlite:///{tmp_path / 'n.db'}", tmp_path)

    with pytest.raises(ConfigError, match=r"template citizen\.accepted v2: .*more than the 1 allowed"):
        create_app(settings.model_copy(update={"templates_file": broken}), now=FakeClock(vn("2026-03-02T08:00:00")))
    with pytest.raises(ConfigError, match="Fernet key"):
        create_app(settings.model_copy(update={"encryption_key": SecretStr("not-a-key")}))
    with pytest.raises(ConfigError, match="quiet hours"):
        create_app(settings.model_copy(update={"quiet_hours": "late"}))

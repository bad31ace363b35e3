"""No duplicate SMS: a provider outcome that may hide an acceptance is `unknown`, never failed over and never
resent; a receipt settles it, or it is listed for the operator. Real local HTTP gateway and SMSC, real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from services.notifier.adapters.metrics import NotifierMetrics
from services.notifier.adapters.providers import Providers, build_providers, parse_provider_settings, read_outbox
from services.notifier.adapters.unit_of_work import SqlUnitOfWork
from services.notifier.domain.sending import DeliveryReceipt
from services.notifier.service_layer.claiming import claim_due
from services.runtime.nats.embedded import EmbeddedNats
from tests.factories import dossier_event
from tests.notifier.core_helpers import Core, core
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
from tests.notifier.providers.gateway_stub import GatewayStub, Reply, running_gateway
from tests.notifier.providers.smsc_simulator import Smsc

pytestmark = pytest.mark.timeout(120)
LATE_ACCEPTANCE = Reply(200, {"CodeResult": "100", "SMSID": "auto"}, delay_seconds=1.0)


@asynccontextmanager
async def sending_through(
    database_url: str, clock: FakeClock, settings: list[dict[str, Any]]
) -> AsyncIterator[tuple[Core, Providers, CollectorRegistry]]:
    """The core with real providers whose receipts reach its dispatcher (as `create_app` wires them)."""
    sink: list[Core] = []

    async def on_receipt(receipt: DeliveryReceipt) -> None:
        await sink[0].dispatcher.receive(receipt)

    providers = build_providers(parse_provider_settings(settings), on_receipt)
    async with core(database_url, clock, sender=providers.provider) as c:
        sink.append(c)
        registry = CollectorRegistry()
        c.dispatcher.metrics = NotifierMetrics(registry)
        try:
            yield c, providers, registry
        finally:
            await providers.close()


def http(name: str, stub: GatewayStub, **extra: Any) -> dict[str, Any]:
    return {"kind": "http", "name": name, "url": stub.url, "timeout_seconds": 0.2, **extra}


async def test_one_sms_and_no_failover_when_the_gateway_accepts_but_answers_after_the_timeout(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    receipt = {"request_id_field": "RequestId"}
    with running_gateway(LATE_ACCEPTANCE) as primary, running_gateway() as backup:
        configured = [http("esms", primary, receipt=receipt), http("speedsms", backup)]
        async with sending_through(database_url, clock, configured) as (c, providers, _):
            await c.take(dossier_event("dossier.accepted", "HS-1"))
            await c.dispatcher.run_once()
            for _ in range(3):  # later ticks, hours later: nothing is resent
                clock.advance(timedelta(hours=1))
                await c.dispatcher.run_once()

            [row] = await c.rows()
            assert (row.status, row.reason, row.provider, row.attempts) == ("unknown", "provider_timeout", "esms", 1)
            assert (len(primary.requests), len(backup.requests)) == (1, 0)
            assert primary.requests[0].body["RequestId"] == row.id

            # the gateway's delivery report quotes our request id: it settles the message
            body = {"SMSID": "gw-1", "RequestId": row.id, "SendStatus": 2}
            applied = await c.dispatcher.apply_receipts(providers.parse_receipts("esms", str(body).replace("'", '"')))
            [row] = await c.rows()
            assert (applied, row.status, row.reason) == (1, "delivered", None)
            assert (len(primary.requests), len(backup.requests)) == (1, 0)


async def test_no_segment_is_resent_and_the_operator_is_told_when_the_smsc_stalls_mid_message(
    database_url: str, tmp_path: Path
) -> None:
    smsc = Smsc(answer_limit=1)
    await smsc.start()
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    smpp = {"kind": "smpp", "name": "viettel", "host": "127.0.0.1", "port": smsc.port, "system_id": "lamthao"}
    smpp |= {"password": "secret", "response_timeout_seconds": 0.3, "test_numbers": False}
    outbox = {"kind": "outbox", "path": str(tmp_path / "o.jsonl")}
    try:
        async with sending_through(database_url, clock, [smpp, outbox]) as (c, _, registry):
            reason = "Thiếu bản sao giấy khai sinh có chứng thực của cơ quan có thẩm quyền"  # three UCS-2 segments
            await c.take(dossier_event("dossier.supplement_requested", "HS-1", reason=reason))
            await c.take(dossier_event("dossier.submitted", "HS-1", time="2026-03-02T08:00:00+07:00"))
            await c.dispatcher.run_once()
            clock.advance(timedelta(hours=1))
            await c.dispatcher.run_once()

            [row] = await c.rows()
            assert (row.status, row.reason, row.provider, row.segments) == ("unknown", "provider_timeout", "viettel", 3)
            assert row.provider_reference == smsc.submitted[0].message_id
            # segment 1 acknowledged, segment 2 unanswered, segment 3 never sent; nothing resent
            assert smsc.submits_received == 2
            assert read_outbox(tmp_path / "o.jsonl") == []  # nor sent through the fallback

            clock.advance(timedelta(hours=24))  # the review window (24 h) passes without a settling receipt
            await c.dispatcher.run_once()
            [row] = await c.rows()
            assert (row.status, row.reason) == ("unknown", "needs_review")
            assert registry.get_sample_value("dvc_notifier_queue_depth", {"state": "needs_review"}) == 1
            assert smsc.submits_received == 2
    finally:
        await smsc.stop()


async def test_operator_lists_unknown_messages_and_a_receipt_settles_them_when_the_gateway_answered_late(
    private_nats: EmbeddedNats, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    with running_gateway(LATE_ACCEPTANCE) as gateway:
        providers = (
            f"[{{kind: http, name: esms, url: '{gateway.url}', timeout_seconds: 0.2, receipt_token: s3cret, "
            "receipt: {request_id_field: RequestId}}]"
        )
        settings = settings_for(private_nats.url, database_url, tmp_path, providers=providers)
        async with connected(private_nats.url) as (_client, js), running_notifier(settings, clock) as notifier:
            await publish(js, [dossier_event("dossier.accepted", "HS-1")])

            [row] = await eventually(lambda: notifier.notifications(status="unknown"))
            clock.advance(timedelta(seconds=31))  # the next sweep measures the queue
            notifier.dispatcher.poke()

            async def measured() -> str | None:
                text = await notifier.metrics()
                return text if metric_value(text, "dvc_notifier_queue_depth", state="unknown") == 1 else None

            metrics = await eventually(measured)
            assert (row["status_label"], row["reason_label"]) == (
                "Chưa rõ nhà mạng đã nhận tin hay chưa",
                "Nhà mạng không trả lời kịp, có thể đã nhận tin",
            )
            assert metric_value(metrics, "dvc_notifier_queue_depth", state="unknown") == 1
            labels = {"template": "citizen.accepted", "status": "unknown"}
            assert metric_value(metrics, "dvc_notifier_notifications_total", **labels) == 1

            body = {"SMSID": "gw-1", "RequestId": row["id"], "SendStatus": "2"}
            answer = await notifier.api.post("/v1/receipts/esms", json=body, headers={"Authorization": "Bearer s3cret"})
            rows = await notifier.notifications(dossier_code="HS-1")
            assert (answer.status_code, answer.json()) == (200, {"received": 1, "applied": 1})
            assert [r["status"] for r in rows] == ["delivered"]
            assert await notifier.notifications(status="unknown") == []
            assert len(gateway.requests) == 1


async def test_a_message_left_sending_by_a_crash_becomes_unknown_and_is_never_resent(database_url: str) -> None:
    clock = FakeClock(vn("2026-03-02T08:15:30"))
    async with core(database_url, clock) as c:
        await c.take(dossier_event("dossier.accepted", "HS-1"))
        async with SqlUnitOfWork(c.sessions) as unit:  # claimed, then the process died before the provider answered
            [claimed] = (await claim_due(unit.deliveries, clock(), 10, urgent_only=False)).claimed
            await unit.commit()
        clock.advance(timedelta(minutes=16))
        await c.dispatcher.run_once()
        clock.advance(timedelta(hours=1))
        await c.dispatcher.run_once()

        [row] = await c.rows()
        assert (row.id, row.status, row.reason, row.attempts) == (claimed.id, "unknown", "no_send_result", 1)
        assert c.provider.sent == []

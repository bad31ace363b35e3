"""The HTTP API: 38 indicators with targets, reports by owner units only, problem+json for bad input, audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext

from services.runtime.nats.embedded import EmbeddedNats
from tests.tasks.helpers import PLAN_ID, Clock, auth, indicators_by_number, running_app, settings_for

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

EVIDENCE = {"evidence": "Báo cáo số 12/BC-VHXH ngày 10/5/2026", "reporter": "Nguyễn Văn An, chuyên viên"}


@pytest.fixture
async def api(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, database_url: str, tmp_path: Path, clock: Clock
) -> Any:
    async with running_app(settings_for(nats_server.url, database_url, tmp_path), clock) as client:
        yield client


async def test_plan_lists_38_indicators_with_targets_when_the_service_starts(api: httpx.AsyncClient) -> None:
    rows = await indicators_by_number(api)
    assert sorted(rows) == list(range(1, 39))
    twenty = rows[20]
    assert twenty["target"] == {
        "year": 2026,
        "comparator": ">=",
        "comparator_label": "Không thấp hơn",
        "value": 95.0,
        "text": "≥ 95",
    }
    assert (twenty["target_horizon"]["text"], twenty["live_code"], twenty["source"]) == ("100", "I20", "live")
    assert (twenty["status"], twenty["status_label"], twenty["value"]) == ("no_data", "Chưa có số liệu", None)
    assert rows[38]["owners"] == [
        {"code": "TYT", "name": "Trạm Y tế xã"},
        {"code": "VHXH", "name": "Phòng Văn hóa - Xã hội"},
    ]
    assert rows[10]["target"]["comparator"] == "none"
    plans = (await api.get("/v1/plans")).json()
    assert [(plan["id"], plan["year"]) for plan in plans] == [(PLAN_ID, 2026)]


async def test_owner_report_sets_value_and_status_when_the_unit_reports(api: httpx.AsyncClient) -> None:
    first = await api.post(
        "/v1/indicators/5/reports", json={"value": 80, "period": "2026-Q1", **EVIDENCE}, headers=auth("VHXH")
    )
    second = await api.post(
        "/v1/indicators/5/reports",
        json={
            "value": 100,
            "period": "2026-Q2",
            "evidence_url": "https://lamthao.bacninh.gov.vn/bc/12",
            "reporter": "An",
        },
        headers=auth("VHXH"),
    )
    assert (first.status_code, first.json()["status"], first.json()["status_label"]) == (201, "not_met", "Chưa đạt")
    assert (second.status_code, second.json()["status"], second.json()["value"]) == (201, "met", 100.0)
    detail = (await api.get("/v1/plan/indicators/5", headers=auth("KT"))).json()
    assert [(entry["value"], entry["period"]) for entry in detail["history"]] == [(80.0, "2026-Q1"), (100.0, "2026-Q2")]
    assert detail["latest"]["evidence_url"] == "https://lamthao.bacninh.gov.vn/bc/12"
    rank = await api.post("/v1/indicators/9/reports", json={"value": 15, **EVIDENCE}, headers=auth("admin"))
    assert (rank.json()["status"], rank.json()["latest"]["period"]) == ("met", "2026")
    audit = (await api.get("/v1/audit", params={"entity": "indicator"}, headers=auth("KT"))).json()
    assert [(entry["entity_id"], entry["actor"], entry["actor_unit"]) for entry in audit] == [
        ("9", "test-admin", "admin"),
        ("5", "test-vhxh", "VHXH"),
        ("5", "test-vhxh", "VHXH"),
    ]
    assert (audit[1]["before"]["value"], audit[1]["after"]["value"], audit[2]["before"]["value"]) == (80.0, 100.0, None)


async def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


async def test_report_is_refused_with_a_reason_when_it_breaks_the_rules(api: httpx.AsyncClient) -> None:
    post = api.post
    body = {"value": 50, **EVIDENCE}
    forbidden = await _problem(await post("/v1/indicators/3/reports", json=body, headers=auth("VHXH")), 403)
    assert forbidden["detail"] == "indicator 3 is reported by Phòng Kinh tế; this key belongs to VHXH"
    missing = await _problem(await post("/v1/indicators/39/reports", json=body, headers=auth("admin")), 404)
    assert missing["detail"] == "plan 'lam-thao-2026' has no indicator 39"
    percent = await _problem(
        await post("/v1/indicators/5/reports", json={**body, "value": 120}, headers=auth("VHXH")), 422
    )
    assert percent["errors"] == [{"field": "value", "reason": "a percentage is between 0 and 100, got 120"}]
    wrong_type = await _problem(
        await post("/v1/indicators/5/reports", json={**body, "value": "80"}, headers=auth("VHXH")), 422
    )
    assert wrong_type["errors"][0]["field"] == "body.value"
    count = await _problem(
        await post("/v1/indicators/11/reports", json={**body, "value": 2.5}, headers=auth("VHXH")), 422
    )
    assert count["errors"][0]["field"] == "value"
    no_evidence = await _problem(
        await post("/v1/indicators/5/reports", json={"value": 50, "reporter": "An"}, headers=auth("VHXH")), 422
    )
    assert "give the evidence" in no_evidence["detail"]
    live = await _problem(await post("/v1/indicators/20/reports", json=body, headers=auth("HCC")), 409)
    assert live["detail"] == "indicator 20 is computed from the events (I20); it is not reported"
    anonymous = await _problem(await post("/v1/indicators/5/reports", json=body), 401)
    assert anonymous["detail"].startswith("send the unit's key")
    unknown = await _problem(
        await post("/v1/indicators/5/reports", json=body, headers={"Authorization": "Bearer x"}), 401
    )
    assert unknown["detail"].startswith("unknown key")
    assert (await _problem(await api.get("/v1/audit"), 401))["status"] == 401
    assert (await api.get("/v1/plan/indicators/5", headers=auth("KT"))).json()["history"] == []

"""Tasks over HTTP: progress reports build a history, status follows progress and deadline, units change only
their own tasks, an admin changes anything, every change is audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext

from services.runtime.nats.embedded import EmbeddedNats
from tests.tasks.helpers import Clock, auth, running_app, settings_for

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]
REPORT = {"summary": "Đã tổ chức 02 lớp tập huấn kỹ năng số", "reporter": "Trần Thị Bình", "period": "2026-Q2"}


@pytest.fixture
async def api(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, database_url: str, tmp_path: Path, clock: Clock
) -> Any:
    async with running_app(settings_for(nats_server.url, database_url, tmp_path), clock) as client:
        yield client


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


async def test_progress_history_builds_up_when_the_owner_reports(api: httpx.AsyncClient) -> None:
    first = await api.post("/v1/tasks/PL2.NV1/reports", json={**REPORT, "progress_percent": 40}, headers=auth("VHXH"))
    assert (first.status_code, first.json()["status"], first.json()["status_label"]) == (
        201,
        "in_progress",
        "Đang thực hiện",
    )
    done = await api.post(
        "/v1/tasks/PL2.NV1/reports",
        json={**REPORT, "progress_percent": 100, "evidence_url": "https://lamthao.bacninh.gov.vn/tap-huan"},
        headers=auth("VHXH"),
    )
    assert (done.json()["status"], done.json()["progress_percent"]) == ("done", 100)
    detail = (await api.get("/v1/tasks/PL2.NV1", headers=auth("KT"))).json()
    assert [report["progress_percent"] for report in detail["reports"]] == [40, 100]
    assert detail["details"]["funding"] == "Ngân sách tỉnh và xã"
    assert detail["last_report"]["evidence_url"] == "https://lamthao.bacninh.gov.vn/tap-huan"
    finished = (await api.get("/v1/tasks", params={"status": "done"}, headers=auth("KT"))).json()
    assert [task["id"] for task in finished] == ["PL2.NV1"]
    mine = (await api.get("/v1/tasks", params={"owner": "CAX"}, headers=auth("KT"))).json()
    assert [task["id"] for task in mine] == ["III.7.1.g", "III.8", "III.8.a", "III.8.b", "V.3.a"]
    audit = (await api.get("/v1/audit", params={"entity": "task", "entity_id": "PL2.NV1"}, headers=auth("VHXH"))).json()
    assert [
        (entry["action"], entry["before"]["progress_percent"], entry["after"]["progress_percent"]) for entry in audit
    ] == [
        ("task.report", 40, 100),
        ("task.report", 0, 40),
    ]


async def test_task_change_is_refused_with_a_reason_when_it_breaks_the_rules(api: httpx.AsyncClient) -> None:
    report = {**REPORT, "progress_percent": 50}
    other_unit = _problem(await api.post("/v1/tasks/PL2.NV1/reports", json=report, headers=auth("KT")), 403)
    assert other_unit["detail"] == "task PL2.NV1 belongs to Phòng Văn hóa - Xã hội; this key belongs to KT"
    deadline = _problem(
        await api.patch("/v1/tasks/PL2.NV1", json={"deadline": "2027-06-30"}, headers=auth("VHXH")), 403
    )
    assert deadline["detail"] == "only an admin key may change deadline"
    too_much = _problem(
        await api.post("/v1/tasks/PL2.NV1/reports", json={**report, "progress_percent": 150}, headers=auth("VHXH")), 422
    )
    assert too_much["errors"][0]["field"] == "body.progress_percent"
    as_text = _problem(
        await api.post("/v1/tasks/PL2.NV1/reports", json={**report, "progress_percent": "50"}, headers=auth("VHXH")),
        422,
    )
    assert as_text["errors"][0]["field"] == "body.progress_percent"
    overdue = _problem(await api.patch("/v1/tasks/PL2.NV1", json={"status": "overdue"}, headers=auth("VHXH")), 422)
    assert overdue["errors"] == [
        {"field": "status", "reason": "'overdue' follows from the deadline and cannot be set; set in_progress or done"}
    ]
    unknown = _problem(await api.post("/v1/tasks/III.99/reports", json=report, headers=auth("admin")), 404)
    assert unknown["detail"] == "plan 'lam-thao-2026' has no task 'III.99'"
    empty = _problem(await api.patch("/v1/tasks/PL2.NV1", json={"reason": "?"}, headers=auth("VHXH")), 422)
    assert "nothing to change" in empty["detail"]
    assert (await api.get("/v1/tasks/PL2.NV1", headers=auth("KT"))).json()["reports"] == []


async def test_task_turns_overdue_when_an_admin_moves_its_deadline_into_the_past(api: httpx.AsyncClient) -> None:
    started = await api.patch("/v1/tasks/III.8.a", json={"status": "in_progress"}, headers=auth("admin"))
    assert started.json()["status"] == "in_progress"
    moved = await api.patch(
        "/v1/tasks/III.8.a",
        json={"deadline": "2026-05-01", "reason": "Theo chỉ đạo của Ban Chỉ đạo"},
        headers=auth("admin"),
    )
    assert (moved.status_code, moved.json()["status"], moved.json()["status_label"]) == (200, "overdue", "Quá hạn")
    audit = (await api.get("/v1/audit", params={"entity_id": "III.8.a"}, headers=auth("admin"))).json()
    assert (audit[0]["before"]["deadline"], audit[0]["after"]["deadline"]) == ("2026-12-31", "2026-05-01")
    assert audit[0]["after"]["reason"] == "Theo chỉ đạo của Ban Chỉ đạo"
    done = await api.patch("/v1/tasks/III.8.a", json={"status": "done"}, headers=auth("admin"))
    assert (done.json()["status"], done.json()["progress_percent"]) == ("done", 100)


async def test_unit_adds_its_own_task_when_the_plan_needs_one(api: httpx.AsyncClient) -> None:
    task = {"id": "BS.1", "title": "Tổ chức ngày hội chuyển đổi số xã", "owner": "VHXH", "deadline": "2026-10-10"}
    created = await api.post("/v1/tasks", json={**task, "parent": "III.2"}, headers=auth("VHXH"))
    assert (created.status_code, created.json()["origin"], created.json()["section"]) == (
        201,
        "api",
        "Nhiệm vụ bổ sung",
    )
    assert (await api.get("/v1/tasks", headers=auth("KT"))).json()[-1]["id"] == "BS.1"
    assert _problem(await api.post("/v1/tasks", json=task, headers=auth("VHXH")), 409)["errors"][0]["field"] == "id"
    other = _problem(await api.post("/v1/tasks", json={**task, "id": "BS.2", "owner": "KT"}, headers=auth("VHXH")), 403)
    assert other["detail"] == "this key may create tasks only for its own unit (VHXH), not KT"
    orphan = _problem(
        await api.post("/v1/tasks", json={**task, "id": "BS.3", "parent": "X"}, headers=auth("admin")), 422
    )
    assert orphan["errors"] == [{"field": "parent", "reason": "plan 'lam-thao-2026' has no task 'X'"}]
    stranger = _problem(
        await api.post("/v1/tasks", json={**task, "id": "BS.4", "owner": "ABC"}, headers=auth("admin")), 422
    )
    assert stranger["errors"][0]["field"] == "owner"

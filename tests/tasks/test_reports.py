"""The periodic report in every format, and the metrics, which come back from the database after a restart."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from nats.js import JetStreamContext
from openpyxl import load_workbook

from services.runtime.nats.embedded import EmbeddedNats
from tests.tasks.helpers import Clock, auth, running_app, settings_for

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


async def _report_some(api: httpx.AsyncClient) -> None:
    evidence = {"evidence": "Báo cáo số 12/BC-VHXH", "reporter": "Nguyễn Văn An"}
    for number, owner, value in ((5, "VHXH", 100), (3, "KT", 0.9), (11, "VHXH", 12)):
        response = await api.post(
            f"/v1/indicators/{number}/reports", json={"value": value, **evidence}, headers=auth(owner)
        )
        assert response.status_code == 201, response.text
    progress = {"progress_percent": 60, "summary": "Đã mua sắm 20 máy tính cho các thôn", "reporter": "An"}
    assert (await api.post("/v1/tasks/PL2.NV3/reports", json=progress, headers=auth("VHXH"))).status_code == 201


async def test_xlsx_report_has_38_indicator_rows_when_opened_with_openpyxl(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    async with running_app(settings_for(nats_server.url, database_url, tmp_path), clock) as api:
        await _report_some(api)
        response = await api.get("/v1/reports/plan", params={"format": "xlsx"}, headers=auth("KT"))
    assert response.headers["content-disposition"] == 'attachment; filename="bao-cao-lam-thao-2026-20260515.xlsx"'
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Chỉ tiêu (Phụ lục I)", "Nhiệm vụ"]
    sheet = workbook["Chỉ tiêu (Phụ lục I)"]
    rows = list(sheet.iter_rows(values_only=True))
    header_at = next(index for index, row in enumerate(rows) if row[0] == "TT")
    assert rows[header_at] == (
        "TT",
        "Chỉ tiêu cụ thể",
        "Đơn vị tính",
        "Cơ quan chủ trì",
        "Mục tiêu năm 2026",
        "Mục tiêu hết năm 2030",
        "Kết quả",
        "Đánh giá",
        "Ghi chú",
    )
    indicator_rows = {row[0]: row for row in rows[header_at + 1 :] if isinstance(row[0], int)}
    assert sorted(indicator_rows) == list(range(1, 39))
    assert indicator_rows[5][4:8] == ("100", "100", 100, "Đạt")
    assert indicator_rows[3][6:8] == (0.9, "Chưa đạt")
    assert indicator_rows[11][6:8] == (12, "Đạt")
    assert indicator_rows[20][6:8] == (None, "Chưa có số liệu")
    header_cell = sheet.cell(row=header_at + 1, column=7)
    assert (header_cell.font.bold, sheet.column_dimensions["B"].width, sheet.freeze_panes) == (
        True,
        58,
        f"A{header_at + 2}",
    )
    tasks = list(workbook["Nhiệm vụ"].iter_rows(values_only=True))
    task_rows = {row[0]: row for row in tasks if isinstance(row[0], str) and row[0].startswith(("III.", "V", "PL2."))}
    assert len(task_rows) == 84
    assert task_rows["PL2.NV3"][5:8] == ("Đang thực hiện", 60, "Đã mua sắm 20 máy tính cho các thôn")
    assert task_rows["PL2.NV3"][4] == datetime(2026, 12, 31)


async def test_text_reports_carry_the_same_rows_when_csv_md_and_json_are_asked(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    async with running_app(settings_for(nats_server.url, database_url, tmp_path), clock) as api:
        await _report_some(api)
        as_csv = await api.get("/v1/reports/plan", params={"format": "csv"}, headers=auth("KT"))
        as_md = await api.get("/v1/reports/plan", params={"format": "md"}, headers=auth("KT"))
        as_json = await api.get("/v1/reports/plan", params={"format": "json"}, headers=auth("KT"))
        wrong = await api.get("/v1/reports/plan", params={"format": "pdf"}, headers=auth("KT"))
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert sum(1 for row in rows if row and row[0].isdigit()) == 38
    five = next(row for row in rows if row and row[0] == "5")
    assert five[:3] == ["5", "Tỷ lệ cán bộ, công chức cấp xã được bồi dưỡng kỹ năng số căn bản.", "%"]
    assert "| 3 | Tỷ lệ chi ngân sách địa phương chi cho khoa học" in as_md.text
    assert "| ≥ 1,1 và không thấp hơn chỉ tiêu tỉnh giao | ≥ 1,5 | 0,9 | Chưa đạt |" in as_md.text
    assert "## II. Tiến độ thực hiện nhiệm vụ" in as_md.text
    document = as_json.json()
    assert (len(document["indicators"]), len(document["tasks"])) == (38, 84)
    assert document["summary"]["indicators"] == {"met": 2, "not_met": 1, "no_data": 35, "no_target": 0}
    assert document["indicators"][4]["result"]["value"] == 100.0
    assert document["tasks"][-1]["latest_report"]["summary"] == "Đã mua sắm 20 máy tính cho các thôn"
    assert wrong.status_code == 422


def _sample(text: str, name: str, labels: str) -> float | None:
    prefix = f"{name}{{{labels}}} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return None


async def test_metrics_come_back_from_the_database_when_the_service_restarts(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, database_url: str, tmp_path: Path
) -> None:
    clock = Clock(datetime(2027, 1, 5, 3, 0, tzinfo=UTC))
    settings = settings_for(nats_server.url, database_url, tmp_path)
    async with running_app(settings, clock) as api:
        await _report_some(api)
    async with running_app(settings, clock) as api:
        text = (await api.get("/metrics")).text
    five = 'indicator="5",plan="lam-thao-2026"'
    assert (_sample(text, "dvc_plan_indicator_value", five), _sample(text, "dvc_plan_indicator_target", five)) == (
        100,
        100,
    )
    assert _sample(text, "dvc_plan_indicator_met", five) == 1
    assert _sample(text, "dvc_plan_indicator_met", 'indicator="3",plan="lam-thao-2026"') == 0
    assert _sample(text, "dvc_plan_indicator_met", 'indicator="20",plan="lam-thao-2026"') is None
    assert _sample(text, "dvc_plan_indicators", 'plan="lam-thao-2026",status="no_data"') == 35
    vhxh = 'owner_unit="VHXH",plan="lam-thao-2026",status="overdue"'
    assert _sample(text, "dvc_plan_tasks", vhxh) == 59  # all 59 VHXH tasks (one at 60%) are past 31/12/2026
    assert _sample(text, "dvc_plan_tasks", 'owner_unit="CAX",plan="lam-thao-2026",status="overdue"') == 5  # with V.3.a


async def test_report_for_a_quarter_shows_what_was_known_at_its_end_when_reports_came_later(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    evidence = {"evidence": "Báo cáo số 12/BC-VHXH", "reporter": "Nguyễn Văn An"}
    async with running_app(settings_for(nats_server.url, database_url, tmp_path), clock) as api:
        clock.moment = datetime(2026, 3, 20, 3, 0, tzinfo=UTC)  # in the first quarter
        await api.post("/v1/indicators/11/reports", json={"value": 7, **evidence}, headers=auth("VHXH"))
        progress = {"progress_percent": 30, "summary": "Đã khảo sát nhu cầu", "reporter": "An"}
        await api.post("/v1/tasks/PL2.NV3/reports", json=progress, headers=auth("VHXH"))
        clock.moment = datetime(2026, 5, 15, 3, 0, tzinfo=UTC)  # in the second
        await api.post("/v1/indicators/11/reports", json={"value": 12, **evidence}, headers=auth("VHXH"))
        await api.post("/v1/indicators/5/reports", json={"value": 100, **evidence}, headers=auth("VHXH"))
        progress = {"progress_percent": 60, "summary": "Đã mua sắm 20 máy tính", "reporter": "An"}
        await api.post("/v1/tasks/PL2.NV3/reports", json=progress, headers=auth("VHXH"))
        quarter = await api.get("/v1/reports/plan", params={"format": "json", "period": "2026-Q1"}, headers=auth("KT"))
        dated = await api.get(
            "/v1/reports/plan", params={"format": "md", "from": "2026-01-01", "to": "2026-04-01"}, headers=auth("KT")
        )
        now = await api.get("/v1/reports/plan", params={"format": "json"}, headers=auth("KT"))
    assert quarter.status_code == 200, quarter.text
    q1, current = quarter.json(), now.json()
    assert q1["title"].endswith("- Quý I/2026")
    assert (q1["indicators"][10]["result"]["value"], q1["indicators"][4]["result"]) == (7.0, None)
    assert (current["indicators"][10]["result"]["value"], current["indicators"][4]["result"]["value"]) == (12.0, 100.0)
    nv3 = {task["id"]: task for task in q1["tasks"]}["PL2.NV3"]
    assert (nv3["progress_percent"], nv3["latest_report"]["summary"]) == (30, "Đã khảo sát nhu cầu")
    assert "Kỳ báo cáo từ 01/01/2026 đến 31/03/2026" in dated.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "2025-Q4"}, "period"),
        ({"period": "2026-Q5"}, "period"),
        ({"from": "2025-12-01"}, "from"),
        ({"to": "2027-02-01"}, "to"),
        ({"period": "2026", "from": "2026-01-01"}, "period"),
    ],
)
async def test_report_period_outside_the_plans_year_is_refused_naming_the_field_when_asked(
    nats_server: EmbeddedNats,
    jetstream: JetStreamContext,
    database_url: str,
    tmp_path: Path,
    clock: Clock,
    params: dict[str, str],
    field: str,
) -> None:
    async with running_app(settings_for(nats_server.url, database_url, tmp_path), clock) as api:
        answer = await api.get("/v1/reports/plan", params={"format": "json", **params}, headers=auth("KT"))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in answer.json()["errors"]] == [field]

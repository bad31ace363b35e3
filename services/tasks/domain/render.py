"""The report as CSV (UTF-8 with BOM, for Excel), Markdown and JSON bytes; XLSX lives in adapters/xlsx.py."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from services.tasks.domain.report import TASK_HEADERS, PlanReport, report_document
from services.tasks.domain.text import csv_cell


def to_csv(report: PlanReport) -> bytes:
    """Two tables one after the other (indicators, then tasks), each under a title row. Every field goes
    through `csv_cell`: stored text may hold control characters or start like a formula."""
    rows: list[Sequence[str]] = [
        [report.title],
        [report.generated_label],
        [],
        ["I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU (PHỤ LỤC I)"],
        report.indicator_headers,
        *(row.cells for row in report.indicator_rows),
        [],
        ["II. TIẾN ĐỘ THỰC HIỆN NHIỆM VỤ"],
        TASK_HEADERS,
        *(task.cells for task in report.task_rows),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([csv_cell(cell) for cell in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(_md_cell(header) for header in headers) + " |"]
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    lines.extend("| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in rows)
    return lines


def to_markdown(report: PlanReport) -> str:
    indicators = report.indicator_summary()
    tasks = report.task_summary()
    indicator_rows = [
        row.cells if row.number is not None else (f"**{row.cells[0]}**", f"**{row.cells[1]}**", *row.cells[2:])
        for row in report.indicator_rows
    ]
    lines = [
        f"# {report.title}",
        "",
        f"_{report.generated_label}_",
        "",
        f"Chỉ tiêu: {indicators['met']} đạt, {indicators['not_met']} chưa đạt, "
        f"{indicators['no_data']} chưa có số liệu, {indicators['no_target']} không có chỉ tiêu. "
        f"Nhiệm vụ: {tasks['done']} hoàn thành, {tasks['in_progress']} đang thực hiện, "
        f"{tasks['not_started']} chưa thực hiện, {tasks['overdue']} quá hạn.",
        "",
        "## I. Kết quả thực hiện các chỉ tiêu (Phụ lục I)",
        "",
        *_md_table(report.indicator_headers, indicator_rows),
        "",
        "## II. Tiến độ thực hiện nhiệm vụ",
        "",
        *_md_table(TASK_HEADERS, [task.cells for task in report.task_rows]),
        "",
    ]
    return "\n".join(lines)


def to_json(report: PlanReport) -> bytes:
    return json.dumps(report_document(report), ensure_ascii=False, indent=2).encode("utf-8")

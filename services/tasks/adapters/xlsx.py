"""The report as a real Excel workbook: Phụ lục I (with Kết quả, Đánh giá) and the tasks, formatted headers."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from services.tasks.domain.evaluation import IndicatorStatus
from services.tasks.domain.plan import ValueKind
from services.tasks.domain.report import TASK_HEADERS, PlanReport
from services.tasks.domain.tasks import TaskStatus
from services.tasks.domain.text import is_formula_like, xml_safe

INDICATOR_WIDTHS = (6, 58, 14, 26, 22, 16, 12, 16, 50)
TASK_WIDTHS = (12, 70, 24, 30, 12, 16, 11, 50, 13)
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_GROUP_FILL = PatternFill("solid", fgColor="F2F2F2")
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_STATUS_COLOURS = {
    IndicatorStatus.MET.value: "2E7D32",
    IndicatorStatus.NOT_MET.value: "C62828",
    TaskStatus.DONE.value: "2E7D32",
    TaskStatus.OVERDUE.value: "C62828",
}
INDICATOR_SHEET = "Chỉ tiêu (Phụ lục I)"
TASK_SHEET = "Nhiệm vụ"


def _text(sheet: Worksheet, row: int, column: int, text: str) -> Cell:
    """A text cell that opens as the text it is: without the characters XML cannot hold (stored text may have
    them) and, when a spreadsheet would take it for a formula, kept a string marked as text (quote prefix)."""
    cleaned = xml_safe(text)
    cell: Cell = sheet.cell(row=row, column=column, value=cleaned or None)
    if is_formula_like(cleaned):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _title(sheet: Worksheet, report: PlanReport, heading: str, columns: int) -> int:
    last = get_column_letter(columns)
    lines = (
        (report.title, Font(bold=True, size=13)),
        (heading, Font(bold=True, size=12)),
        (report.generated_label, Font(italic=True)),
    )
    for row, (text, font) in enumerate(lines, start=1):
        sheet.merge_cells(f"A{row}:{last}{row}")
        cell = _text(sheet, row, 1, text)
        cell.font = font
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet.row_dimensions[1].height = 48
    return len(lines) + 2


def _header(sheet: Worksheet, row: int, headers: tuple[str, ...], widths: tuple[int, ...]) -> None:
    for column, (text, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = _text(sheet, row, column, text)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = _CENTER
        cell.border = _BORDER
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = sheet.cell(row=row + 1, column=1)
    sheet.auto_filter.ref = f"A{row}:{get_column_letter(len(headers))}{row}"


def _indicator_sheet(sheet: Worksheet, report: PlanReport) -> None:
    row = _title(sheet, report, "I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU (PHỤ LỤC I)", len(INDICATOR_WIDTHS))
    _header(sheet, row, report.indicator_headers, INDICATOR_WIDTHS)
    for entry in report.indicator_rows:
        row += 1
        for column, text in enumerate(entry.cells, start=1):
            cell = _text(sheet, row, column, text)
            cell.border = _BORDER
            cell.alignment = _WRAP
        if entry.view is None:
            for column in range(1, len(entry.cells) + 1):
                sheet.cell(row=row, column=column).fill = _GROUP_FILL
                sheet.cell(row=row, column=column).font = Font(bold=True, italic=column == 2)
            continue
        sheet.cell(row=row, column=1, value=entry.number).alignment = _CENTER
        if entry.value is not None:
            result = sheet.cell(row=row, column=7, value=entry.value)
            result.number_format = "0" if entry.view.spec.kind in (ValueKind.COUNT, ValueKind.RANK) else "0.##"
        status = sheet.cell(row=row, column=8)
        status.font = Font(bold=True, color=_STATUS_COLOURS.get(entry.view.status.value, "616161"))


def _task_sheet(sheet: Worksheet, report: PlanReport) -> None:
    row = _title(sheet, report, "II. TIẾN ĐỘ THỰC HIỆN NHIỆM VỤ", len(TASK_WIDTHS))
    _header(sheet, row, TASK_HEADERS, TASK_WIDTHS)
    for entry in report.task_rows:
        row += 1
        for column, text in enumerate(entry.cells, start=1):
            cell = _text(sheet, row, column, text)
            cell.border = _BORDER
            cell.alignment = _WRAP
        sheet.cell(row=row, column=2).alignment = Alignment(wrap_text=True, vertical="top", indent=entry.depth * 2)
        if entry.depth == 0:
            sheet.cell(row=row, column=2).font = Font(bold=True)
        deadline = sheet.cell(row=row, column=5, value=entry.view.deadline)
        deadline.number_format = "DD/MM/YYYY"
        sheet.cell(row=row, column=7, value=entry.view.progress_percent).number_format = "0"
        last = entry.view.last_report
        if last is not None:
            recorded = sheet.cell(row=row, column=9, value=_local(last.recorded_at, report.timezone))
            recorded.number_format = "DD/MM/YYYY"
        sheet.cell(row=row, column=6).font = Font(color=_STATUS_COLOURS.get(entry.view.status.value, "000000"))


def _local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def to_xlsx(report: PlanReport) -> bytes:
    workbook = Workbook()
    indicators = workbook.active
    assert indicators is not None
    indicators.title = INDICATOR_SHEET
    _indicator_sheet(indicators, report)
    _task_sheet(workbook.create_sheet(TASK_SHEET), report)
    workbook.properties.title = xml_safe(report.title)
    workbook.properties.creator = "DVC Pulse"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

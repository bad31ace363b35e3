"""The periodic report: Phụ lục I with "Kết quả" and "Đánh giá" added, then the tasks with their progress."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.tasks.domain.evaluation import IndicatorStatus
from services.tasks.domain.labels import INDICATOR_STATUS, TASK_STATUS
from services.tasks.domain.periods import ReportPeriod
from services.tasks.domain.plan import Target, ValueKind
from services.tasks.domain.views import IndicatorView, PlanView, Reading, TaskView

INDICATOR_HEADERS = (
    "TT",
    "Chỉ tiêu cụ thể",
    "Đơn vị tính",
    "Cơ quan chủ trì",
    "Mục tiêu năm {year}",
    "Mục tiêu hết năm {horizon}",
    "Kết quả",
    "Đánh giá",
    "Ghi chú",
)
TASK_HEADERS = (
    "Mã",
    "Nhiệm vụ",
    "Cơ quan chủ trì",
    "Cơ quan phối hợp",
    "Thời hạn",
    "Trạng thái",
    "Tiến độ (%)",
    "Kết quả thực hiện gần nhất",
    "Ngày báo cáo",
)


@dataclass(frozen=True)
class IndicatorRow:
    """A group heading (`number` None, `name` the group) or an indicator."""

    number: int | None
    cells: tuple[str, ...]
    value: float | None = None
    view: IndicatorView | None = None


@dataclass(frozen=True)
class TaskRow:
    cells: tuple[str, ...]
    depth: int
    view: TaskView


@dataclass(frozen=True)
class PlanReport:
    plan: PlanView
    generated_at: datetime
    timezone: str
    indicator_headers: tuple[str, ...]
    indicator_rows: list[IndicatorRow]
    task_rows: list[TaskRow]
    period: ReportPeriod | None = None  # None: as things stand when generated

    @property
    def title(self) -> str:
        title = f"Báo cáo kết quả thực hiện {self.plan.meta.title}"
        return title if self.period is None else f"{title} - {self.period.label}"

    @property
    def generated_label(self) -> str:
        generated = vn_datetime(self.generated_at, self.timezone)
        if self.period is None:
            return f"Số liệu đến {generated}"
        period = self.period
        return (
            f"Kỳ báo cáo từ {period.start:%d/%m/%Y} đến {period.last_day:%d/%m/%Y}: số liệu báo cáo đến hết ngày "
            f"{period.last_day:%d/%m/%Y} (lập lúc {generated})"
        )

    def indicator_summary(self) -> dict[str, int]:
        counts = Counter(row.view.status.value for row in self.indicator_rows if row.view is not None)
        return {status.value: counts.get(status.value, 0) for status in IndicatorStatus}

    def task_summary(self) -> dict[str, int]:
        counts = Counter(row.view.status.value for row in self.task_rows)
        return {status.value: counts.get(status.value, 0) for status in TASK_STATUS}


def vn_number(value: float, kind: ValueKind = ValueKind.NUMBER) -> str:
    """96.5 -> "96,5"; whole numbers without decimals; Vietnamese decimal comma."""
    if float(value).is_integer():
        return str(int(value))
    digits = 2 if kind is ValueKind.PERCENT else 4
    return f"{value:.{digits}f}".rstrip("0").rstrip(".").replace(".", ",")


def vn_date(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y")


def vn_datetime(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M %d/%m/%Y")


def reading_note(view: IndicatorView, plan: PlanView, timezone: str) -> str:
    reading: Reading | None = view.latest
    if reading is None:
        return "Tự động từ hệ thống" if view.spec.live_code else ""
    when = vn_date(reading.recorded_at, timezone)
    if reading.source == "live":
        ratio = ""
        if reading.numerator is not None and reading.denominator is not None:
            ratio = f" ({reading.numerator}/{reading.denominator})"
        return f"Tự động từ hệ thống, chỉ số {view.spec.live_code}{ratio}, cập nhật {when}"
    parts = [f"Kỳ {reading.period}" if reading.period else "", f"báo cáo ngày {when}"]
    evidence = reading.evidence_url or (reading.evidence or "")
    if evidence:
        parts.append(f"minh chứng: {evidence[:200]}")
    return "; ".join(part for part in parts if part)


def _indicator_cells(view: IndicatorView, plan: PlanView, timezone: str) -> tuple[str, ...]:
    spec = view.spec
    target, horizon = view.target, view.horizon_target
    value = view.latest.value if view.latest else None
    return (
        str(spec.number),
        spec.name,
        spec.unit,
        ", ".join(plan.unit_label(code) for code in spec.owners),
        target.text if target else "",
        horizon.text if horizon else "",
        "" if value is None else vn_number(value, spec.kind),
        INDICATOR_STATUS[view.status],
        reading_note(view, plan, timezone),
    )


def _task_cells(view: TaskView, plan: PlanView, timezone: str) -> tuple[str, ...]:
    report = view.last_report
    return (
        view.task_id,
        view.title,
        plan.unit_label(view.owner),
        ", ".join(plan.unit_label(code) for code in view.collaborators),
        view.deadline.strftime("%d/%m/%Y"),
        TASK_STATUS[view.status],
        str(view.progress_percent),
        report.summary if report else "",
        vn_date(report.recorded_at, timezone) if report else "",
    )


def build_report(
    plan: PlanView,
    indicators: list[IndicatorView],
    tasks: list[TaskView],
    generated_at: datetime,
    timezone: str,
    period: ReportPeriod | None = None,
) -> PlanReport:
    rows: list[IndicatorRow] = []
    group: str | None = None
    for view in indicators:
        if view.spec.group and view.spec.group != group:
            group = view.spec.group
            rows.append(IndicatorRow(None, (group, plan.group_name(group), "", "", "", "", "", "", "")))
        value = view.latest.value if view.latest else None
        rows.append(IndicatorRow(view.spec.number, _indicator_cells(view, plan, timezone), value, view))
    depth = {task.task_id: 0 for task in tasks}
    for task in tasks:
        depth[task.task_id] = depth.get(task.parent, -1) + 1 if task.parent else 0
    meta = plan.meta
    horizon = meta.horizon_year or ""
    headers = tuple(header.format(year=meta.year, horizon=horizon).strip() for header in INDICATOR_HEADERS)
    task_rows = [TaskRow(_task_cells(task, plan, timezone), depth[task.task_id], task) for task in tasks]
    return PlanReport(plan, generated_at, timezone, headers, rows, task_rows, period)


def report_document(report: PlanReport) -> dict[str, Any]:
    """The JSON document for an external reporting system: codes and Vietnamese labels, ISO dates."""
    meta = report.plan.meta
    return {
        "schema": "dvc-pulse/plan-report/v1",
        "plan": {
            "id": meta.id,
            "title": meta.title,
            "document": meta.document,
            "commune": meta.commune,
            "province": meta.province,
            "year": meta.year,
            "horizon_year": meta.horizon_year,
        },
        "title": report.title,
        "period": None if report.period is None else _period(report.period),
        "generated_at": report.generated_at.isoformat(),
        "summary": {"indicators": report.indicator_summary(), "tasks": report.task_summary()},
        "indicators": [_indicator_document(row.view, report.plan) for row in report.indicator_rows if row.view],
        "tasks": [_task_document(row.view, report.plan) for row in report.task_rows],
    }


def _indicator_document(view: IndicatorView, plan: PlanView) -> dict[str, Any]:
    reading = view.latest
    return {
        "number": view.spec.number,
        "group": view.spec.group,
        "group_name": plan.group_name(view.spec.group),
        "name": view.spec.name,
        "unit": view.spec.unit,
        "owners": [{"code": code, "name": plan.unit_name(code)} for code in view.spec.owners],
        "target": _target(view.target, plan.meta.year),
        "target_horizon": _target(view.horizon_target, plan.meta.horizon_year),
        "live_code": view.spec.live_code,
        "result": None if reading is None else _reading(reading),
        "status": view.status.value,
        "status_label": INDICATOR_STATUS[view.status],
    }


def _task_document(task: TaskView, plan: PlanView) -> dict[str, Any]:
    last = task.last_report
    return {
        "id": task.task_id,
        "parent": task.parent,
        "section": task.section,
        "title": task.title,
        "owner": {"code": task.owner, "name": plan.unit_name(task.owner)},
        "collaborators": task.collaborators,
        "deadline": task.deadline.isoformat(),
        "status": task.status.value,
        "status_label": TASK_STATUS[task.status],
        "progress_percent": task.progress_percent,
        "latest_report": None
        if last is None
        else {"summary": last.summary, "period": last.period, "recorded_at": last.recorded_at.isoformat()},
    }


def _period(period: ReportPeriod) -> dict[str, str]:
    return {"label": period.label, "from": period.start.isoformat(), "last_day": period.last_day.isoformat()}


def _target(target: Target | None, year: int | None) -> dict[str, Any] | None:
    if target is None:
        return None
    return {"year": year, "comparator": target.comparator.value, "value": target.value, "text": target.text}


def _reading(reading: Reading) -> dict[str, Any]:
    return {
        "value": reading.value,
        "period": reading.period,
        "source": reading.source,
        "recorded_at": reading.recorded_at.isoformat(),
        "evidence": reading.evidence,
        "evidence_url": reading.evidence_url,
        "numerator": reading.numerator,
        "denominator": reading.denominator,
    }

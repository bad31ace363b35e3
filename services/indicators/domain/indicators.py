"""The plan's live indicators I15-I25 and ONTIME (design §5, Phụ lục I section E): catalogue and status.

Counting rules (numerator / denominator; the adapter counts them with SQL aggregates):
- I15 procedures `boundary_free` / published procedures (published before the period end)
- I16 `business_related` procedures with level full or partial / `business_related` procedures
- I17 returned dossiers with channel online or postal AND delivery electronic or postal / returned dossiers
- I18 returned dossiers `digitized` AND `result_digitized` / returned dossiers
- I19 procedures level full AND `eligible_full_online` / `eligible_full_online` procedures
- I20 accepted dossiers with channel online / accepted dossiers
- I21 accepted, channel online, procedure level full or partial / accepted of procedures level full or partial
- I22 processed dossiers with `result_electronic` / processed dossiers
- I23 accepted dossiers with `reused_data` / accepted dossiers
- I24 paid dossiers with `paid_online` / paid dossiers
- I25 completed documents `fully_electronic` / completed documents
- ONTIME ended on time + open not yet overdue / ended + open (ended in the period; open at its end)
- SAT feedback `satisfied` / feedback answered (submitted in the period)
- LATE_NO_APOLOGY late dossiers with no `rescheduled` (apology slip) at or before their extended due time /
  late dossiers (ended late in the period, or open and overdue at its end); target 0, lower is better
Dossiers count in the period of the event the row names (accepted, returned, processed, paid, ended).
An empty denominator gives "no data", never 0% or 100%. A `Scope` narrows dossiers (and their feedback) to an
agency, a field (lĩnh vực) or a procedure; the procedure catalogue (I15, I16, I19) follows field and procedure
but has no agency; documents (I25) follow the agency only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo


class IndicatorStatus(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NO_DATA = "no_data"
    NO_TARGET = "no_target"  # ONTIME has no plan target unless one is configured


@dataclass(frozen=True, slots=True)
class IndicatorDefinition:
    code: str
    name: str
    target: float | None
    comparator: Literal[">=", "=", "<="] = ">="
    unit: str = "%"


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    code: str
    name: str
    numerator: int
    denominator: int
    value: float | None
    target: float | None
    comparator: Literal[">=", "=", "<="]
    unit: str
    status: IndicatorStatus


@dataclass(frozen=True, slots=True)
class Scope:
    """Which dossiers an indicator counts: all (every field None), or one agency, field or procedure."""

    agency: str | None = None
    field: str | None = None
    procedure: str | None = None


DEFINITIONS: tuple[IndicatorDefinition, ...] = (
    IndicatorDefinition(
        "I15",
        "Tỷ lệ thủ tục hành chính được tiếp nhận, giải quyết phi địa giới hành chính giữa các cấp chính quyền",
        1.0,
        "=",
    ),
    IndicatorDefinition(
        "I16",
        "Tỷ lệ thủ tục hành chính liên quan đến đào tạo, nghiên cứu, sản xuất, kinh doanh phải được thực hiện "
        "trực tuyến",
        1.0,
        "=",
    ),
    IndicatorDefinition("I17", "Tỷ lệ giao dịch hành chính thuộc diện “phi tiếp xúc”", 1.0, "="),
    IndicatorDefinition("I18", "Tỷ lệ hồ sơ, kết quả giải quyết thủ tục hành chính được số hóa", 1.0, "="),
    IndicatorDefinition(
        "I19", "Tỷ lệ dịch vụ công trực tuyến toàn trình trên tổng số thủ tục hành chính có đủ điều kiện", 1.0, "="
    ),
    IndicatorDefinition("I20", "Tỷ lệ hồ sơ thủ tục hành chính xử lý trực tuyến", 0.95),
    IndicatorDefinition("I21", "Tỷ lệ sử dụng dịch vụ công trực tuyến của người dân và doanh nghiệp", 0.80),
    IndicatorDefinition("I22", "Tỷ lệ cấp kết quả giải quyết thủ tục hành chính điện tử", 0.90),
    IndicatorDefinition(
        "I23",
        "Tỷ lệ khai thác, sử dụng lại thông tin, dữ liệu đã được số hóa trong giải quyết thủ tục hành chính, "
        "dịch vụ công",
        0.80,
    ),
    IndicatorDefinition("I24", "Tỷ lệ thanh toán trực tuyến trong giải quyết thủ tục hành chính, dịch vụ công", 0.80),
    IndicatorDefinition(
        "I25",
        "Tỷ lệ xử lý văn bản, hồ sơ công việc toàn trình trên môi trường điện tử của các cơ quan hành chính nhà nước "
        "giám sát trên môi trường điện tử",
        1.0,
        "=",
    ),
    IndicatorDefinition("ONTIME", "Tỷ lệ hồ sơ giải quyết đúng hạn (tiến độ giải quyết)", None),
    IndicatorDefinition("SAT", "Tỷ lệ người dân, doanh nghiệp hài lòng với việc giải quyết thủ tục hành chính", None),
    IndicatorDefinition(
        "LATE_NO_APOLOGY",
        "Tỷ lệ hồ sơ quá hạn không có phiếu xin lỗi và hẹn lại ngày trả kết quả trước hạn",
        0.0,
        "<=",
    ),
)
CODES = tuple(definition.code for definition in DEFINITIONS)


def evaluate(definition: IndicatorDefinition, numerator: int, denominator: int) -> IndicatorResult:
    """Ratio and status; `=` targets (100%) are met only at exactly 100%."""
    value = None if denominator <= 0 else numerator / denominator
    if value is None:
        status = IndicatorStatus.NO_DATA
    elif definition.target is None:
        status = IndicatorStatus.NO_TARGET
    elif definition.comparator == "<=":
        status = IndicatorStatus.MET if value <= definition.target else IndicatorStatus.NOT_MET
    else:
        status = IndicatorStatus.MET if value >= definition.target else IndicatorStatus.NOT_MET
    return IndicatorResult(
        definition.code,
        definition.name,
        numerator,
        denominator,
        value,
        definition.target,
        definition.comparator,
        definition.unit,
        status,
    )


def evaluate_all(
    counts: dict[str, tuple[int, int]], ontime_target: float | None = None, sat_target: float | None = None
) -> list[IndicatorResult]:
    """Every indicator in catalogue order from `{code: (numerator, denominator)}` (missing codes: no data).
    ONTIME and SAT have no plan target; a configured one applies as a minimum."""
    configured = {"ONTIME": ontime_target, "SAT": sat_target}
    results = []
    for definition in DEFINITIONS:
        chosen = definition
        target = configured.get(definition.code)
        if target is not None:
            chosen = IndicatorDefinition(definition.code, definition.name, target)
        numerator, denominator = counts.get(definition.code, (0, 0))
        results.append(evaluate(chosen, numerator, denominator))
    return results


def year_period(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) of `now`'s calendar year in `timezone` (the default period)."""
    zone = ZoneInfo(timezone)
    year = now.astimezone(zone).year
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)

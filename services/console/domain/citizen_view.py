"""What a citizen sees of their dossier, in plain Vietnamese, from the indicators API's dossier and timeline:
the status, the steps with their dates, the due date, a new date with its reason, how to collect the result.
Pure: no I/O (officer and agency codes, reasons of rejection or supplement stay as the officer wrote them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

STATUS_TEXT = {
    "submitted": "Đã nộp, đang chờ tiếp nhận",
    "accepted": "Đã tiếp nhận, đang giải quyết",
    "paused": "Tạm dừng: chờ ông/bà bổ sung giấy tờ hoặc nộp phí",
    "processed": "Đã có kết quả, chờ trả",
    "returned": "Đã trả kết quả",
    "rejected": "Không tiếp nhận",
    "withdrawn": "Đã rút hồ sơ",
    "stopped": "Đã dừng xử lý",
}
STEP_TEXT = {
    "dossier.submitted": "Nộp hồ sơ",
    "dossier.accepted": "Tiếp nhận hồ sơ",
    "dossier.rejected": "Từ chối tiếp nhận",
    "dossier.transferred": "Chuyển xử lý",
    "dossier.supplement_requested": "Yêu cầu bổ sung giấy tờ (tạm dừng tính thời hạn)",
    "dossier.supplement_received": "Đã nhận giấy tờ bổ sung (tiếp tục tính thời hạn)",
    "dossier.payment_requested": "Thông báo nộp phí, lệ phí",
    "dossier.paid": "Đã nộp phí, lệ phí",
    "dossier.rescheduled": "Hẹn lại ngày trả kết quả",
    "dossier.processed": "Đã có kết quả",
    "dossier.returned": "Đã trả kết quả",
    "dossier.withdrawn": "Rút hồ sơ",
    "dossier.stopped": "Dừng xử lý",
}
COLLECT_TEXT = {
    "electronic": "Kết quả bản điện tử được gửi qua tài khoản của ông/bà trên Cổng Dịch vụ công.",
    "postal": "Kết quả được gửi qua dịch vụ bưu chính đến địa chỉ ông/bà đã đăng ký.",
    "counter": "Nhận kết quả tại Bộ phận Một cửa UBND xã Lâm Thao; mang theo giấy biên nhận và giấy tờ tùy thân.",
}
COLLECT_DEFAULT = (
    "Khi có kết quả, ông/bà nhận tại Bộ phận Một cửa UBND xã Lâm Thao (mang theo giấy biên nhận và giấy tờ tùy "
    "thân), hoặc theo hình thức đã đăng ký khi nộp hồ sơ (bưu chính, bản điện tử trên Cổng Dịch vụ công)."
)


@dataclass(frozen=True)
class CitizenStep:
    label: str
    at: str
    note: str | None


@dataclass(frozen=True)
class CitizenView:
    dossier_code: str
    status: str
    steps: list[CitizenStep]
    due: str | None
    new_due: str | None
    new_due_reason: str | None
    collect: str


def local_text(value: str | None, timezone: str, with_time: bool = True) -> str | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(ZoneInfo(timezone))
    except ValueError:
        return None
    return moment.strftime("%H:%M ngày %d/%m/%Y" if with_time else "%d/%m/%Y")


def citizen_view(dossier: dict[str, Any], timeline: dict[str, Any], timezone: str) -> CitizenView:
    events = [event for event in timeline.get("events", []) if event.get("type") in STEP_TEXT]
    steps = [
        CitizenStep(STEP_TEXT[event["type"]], local_text(event.get("time"), timezone) or "", _note(event, timezone))
        for event in events
    ]
    due = dossier.get("due") or {}
    rescheduled = [event for event in events if event["type"] == "dossier.rescheduled"]
    delivered = [event for event in events if event["type"] == "dossier.returned"]
    collect = COLLECT_DEFAULT
    if delivered:
        collect = COLLECT_TEXT.get(str(delivered[-1]["details"].get("delivery")), COLLECT_DEFAULT)
    return CitizenView(
        dossier_code=str(dossier.get("dossier_code", "")),
        status=STATUS_TEXT.get(str(dossier.get("status")), "Đang xử lý"),
        steps=steps,
        due=local_text(due.get("original"), timezone, with_time=False),
        new_due=local_text(due.get("rescheduled"), timezone, with_time=False) if rescheduled else None,
        new_due_reason=str(rescheduled[-1]["details"].get("reason")) if rescheduled else None,
        collect=collect,
    )


def _note(event: dict[str, Any], timezone: str) -> str | None:
    details = event.get("details") or {}
    if event["type"] == "dossier.accepted" and details.get("due_at"):
        return f"Hẹn trả kết quả ngày {local_text(details['due_at'], timezone, with_time=False)}"
    if event["type"] == "dossier.rescheduled":
        new_date = local_text(details.get("new_due_at"), timezone, with_time=False)
        return f"Ngày hẹn mới {new_date}. Lý do: {details.get('reason', '')}"
    if event["type"] in {"dossier.supplement_requested", "dossier.rejected", "dossier.stopped"}:
        return str(details["reason"]) if details.get("reason") else None
    return None

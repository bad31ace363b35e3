"""Valid CloudEvents for tests, with Vietnamese text; override any field per test."""

from __future__ import annotations

import copy
import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

VN = timezone(timedelta(hours=7))
SOURCE = "urn:dvc:lam-thao:one-stop"
_ids = itertools.count(1)

_DATA: dict[str, dict[str, Any]] = {
    "dossier.submitted": {
        "channel": "online",
        "applicant": {"kind": "citizen", "name": "Nguyễn Thị Hồng Nhung", "phone": "0912345678", "sms_consent": True},
    },
    "dossier.accepted": {
        "channel": "online",
        "applicant": {"kind": "citizen", "name": "Nguyễn Thị Hồng Nhung", "phone": "0912345678", "sms_consent": True},
        "receiving_agency": "UBND-LAMTHAO",
        "officer": "CB-001",
        "due_at": "2026-03-05T17:00:00+07:00",
        "digitized": True,
        "reused_data": False,
    },
    "dossier.rejected": {"officer": "CB-001", "reason": "Hồ sơ không thuộc thẩm quyền giải quyết"},
    "dossier.transferred": {"officer": "CB-001", "to_agency": "PHONG-KT", "to_officer": "CB-007"},
    "dossier.supplement_requested": {"officer": "CB-001", "reason": "Thiếu bản sao giấy khai sinh"},
    "dossier.supplement_received": {},
    "dossier.payment_requested": {"fee_amount": 50000},
    "dossier.paid": {"fee_amount": 50000, "paid_online": True},
    "dossier.rescheduled": {
        "officer": "CB-001",
        "new_due_at": "2026-03-09T17:00:00+07:00",
        "reason": "Cần xác minh thêm thông tin đất đai",
    },
    "dossier.processed": {"officer": "CB-001", "result_electronic": True, "result_digitized": True},
    "dossier.returned": {"delivery": "electronic"},
    "dossier.withdrawn": {"reason": "Công dân rút hồ sơ"},
    "dossier.stopped": {"officer": "CB-001", "reason": "Công dân không bổ sung hồ sơ đúng hạn"},
}


def dossier_event(
    short_type: str,
    dossier_code: str = "000.00.00.H00-260302-0001",
    *,
    time: datetime | str = "2026-03-02T08:15:00+07:00",
    procedure_code: str = "1.001193",
    agency: str = "UBND-LAMTHAO",
    event_id: str | None = None,
    source: str = SOURCE,
    **data: Any,
) -> dict[str, Any]:
    payload = {"dossier_code": dossier_code, "procedure_code": procedure_code, "agency": agency}
    payload.update(copy.deepcopy(_DATA[short_type]))
    payload.update(data)
    return envelope(short_type, payload, subject=dossier_code, time=time, event_id=event_id, source=source)


def procedure_published(procedure_code: str = "1.001193", **data: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "procedure_code": procedure_code,
        "name": "Đăng ký khai sinh",
        "field": "Hộ tịch",
        "level": "full",
        "eligible_full_online": True,
        "boundary_free": True,
        "business_related": False,
        "has_fee": False,
        "time_limit": {"value": 1, "unit": "working_days"},
    }
    payload.update(data)
    return envelope("procedure.published", payload, subject=procedure_code)


def envelope(
    short_type: str,
    data: dict[str, Any],
    *,
    subject: str | None = None,
    time: datetime | str = "2026-03-02T08:15:00+07:00",
    event_id: str | None = None,
    source: str = SOURCE,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id or f"evt-{next(_ids):08d}",
        "source": source,
        "type": f"vn.gov.dvc.{short_type}",
        "time": time.isoformat() if isinstance(time, datetime) else time,
        "datacontenttype": "application/json",
        "data": data,
    }
    if subject is not None:
        event["subject"] = subject
    return event

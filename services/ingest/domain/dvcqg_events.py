"""Portal records -> CloudEvents (docs/integration-dvcqg.md). Pure and deterministic: an event's id is made of
(MaHoSo, kind, time), so a re-sent snapshot, or a later one repeating the history, gives the same events and
JetStream keeps each once. A status the record does not date is dated by a step payload or the receive time,
remembered, and flagged in the extension attribute `dvcqgdated` (`step` or `received`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from services.contracts.dossier import Channel
from services.contracts.events import EventType
from services.ingest.domain.dvcqg import (
    ENDED,
    DossierMemo,
    RecordError,
    RecordOutcome,
    ResultCode,
    Status,
    date,
    dossier_code,
    items,
    regressed,
    stamp,
    status,
    text,
)
from services.ingest.domain.dvcqg_fields import original_due, read_agency, read_fee, read_procedure, supplement_items
from services.ingest.domain.dvcqg_tables import DEFAULT_DELIVERIES, MappingTables, name_key
from services.ingest.domain.time_rules import TimeWindow

DATED_EXTENSION = "dvcqgdated"
MAX_TEXT = 2000
_ENDINGS = {
    Status.NOT_ACCEPTED: (EventType.DOSSIER_REJECTED, "Hồ sơ không được tiếp nhận"),
    Status.WITHDRAWN: (EventType.DOSSIER_WITHDRAWN, "Công dân rút hồ sơ"),
    Status.STOPPED: (EventType.DOSSIER_STOPPED, "Dừng xử lý hồ sơ"),
}
_AFTER_PAYMENT = frozenset({Status.PROCESSING, Status.PROCESSED, Status.RETURNED})


@dataclass(frozen=True)
class Context:
    source: str
    tables: MappingTables
    sms_consent: bool
    received_at: datetime
    window: TimeWindow | None = None  # a step's time outside it is not remembered (it would date statuses)


@dataclass
class _Dossier:
    """One record being mapped: its reference `data` fields and the events so far."""

    code: str
    ref: dict[str, Any]
    memo: DossierMemo
    context: Context
    channel: Channel
    events: list[dict[str, Any]]

    def add(self, kind: EventType, at: datetime, data: Mapping[str, Any], dated: str | None = None) -> None:
        name = kind.short_name.removeprefix("dossier.")
        event: dict[str, Any] = {
            "specversion": "1.0",
            "id": f"dvcqg:{self.code}:{name}:{stamp(at)}",
            "source": self.context.source,
            "type": kind.value,
            "time": at.isoformat(),
            "subject": self.code,
            "data": {**self.ref, **data},
        }
        if dated is not None:
            event[DATED_EXTENSION] = dated
        self.events.append(event)

    def add_undated(
        self, kind: EventType, status_code: Status, data: Mapping[str, Any], not_before: datetime | None = None
    ) -> datetime:
        """Dated as first given (remembered), else by a step with this status (not before `not_before`), else by
        the receive time. Returns the time given."""
        known = self.memo.assigned.get(kind.value)
        if known is None:
            step = self.memo.step_times.get(status_code.value)
            usable = step is not None and (not_before is None or datetime.fromisoformat(step) >= not_before)
            known = f"step {step}" if usable else f"received {self.context.received_at.isoformat()}"
            self.memo.assigned[kind.value] = known
        dated, at = known.split(" ", 1)
        moment = datetime.fromisoformat(at)
        self.add(kind, moment, data, dated)
        return moment

    def assigned_time(self, kind: EventType) -> datetime | None:
        known = self.memo.assigned.get(kind.value)
        return None if known is None else datetime.fromisoformat(known.split(" ", 1)[1])


def pseudonym(name: str) -> str:
    """An officer code for a person the portal names: never the name itself."""
    return "CB-" + hashlib.sha256(name_key(name).encode()).hexdigest()[:12]


def _short(value: str, default: str) -> str:
    return (value or default)[:MAX_TEXT]


def map_snapshot(record: Mapping[str, Any], memo: DossierMemo | None, context: Context) -> RecordOutcome:
    """A `DongBoHoSoMC` record: the events its fields imply, or an anomaly when its status went back."""
    code = dossier_code(record)
    try:
        return _map_snapshot(code, record, replace(memo or DossierMemo()), context)
    except RecordError as error:
        return RecordOutcome(code, error.code, error.reason)


def _map_snapshot(code: str, record: Mapping[str, Any], memo: DossierMemo, context: Context) -> RecordOutcome:
    memo.assigned, memo.step_times = dict(memo.assigned), dict(memo.step_times)
    now = status(record, "TrangThaiHoSo")
    if now is None:
        raise RecordError(ResultCode.INVALID_RECORD, "TrangThaiHoSo: required")
    if regressed(memo.status, now):
        memo.anomalies += 1
        memo.last_anomaly = f"status {now.value} after {memo.status}"
        message = f"TrangThaiHoSo {now.value} goes back from {memo.status}: recorded as an anomaly, nothing added"
        return RecordOutcome(code, ResultCode.OK, message, (), memo, regressed=True)
    procedure_code, unmapped = read_procedure(record, context.tables)
    agency = read_agency(record, "DonViXuLy", context.tables)
    channel = context.tables.channel(text(record, "KenhThucHien"), text(record, "HinhThuc"))
    ref = {"dossier_code": code, "procedure_code": procedure_code, "agency": agency}
    dossier = _Dossier(code, ref, memo, context, channel, [])
    _intake(dossier, record, now)
    _supplements(dossier, record)
    _payment(dossier, record, now)
    _ending(dossier, record, now)
    memo.procedure_code, memo.agency, memo.status = procedure_code, agency, now
    message = f"{len(dossier.events)} event(s)"
    return RecordOutcome(code, ResultCode.OK, message, dossier.events, memo, unmapped)


def _intake(dossier: _Dossier, record: Mapping[str, Any], now: Status) -> None:
    tables, context = dossier.context.tables, dossier.context
    phone = text(record, "SoDienThoai")[:32] if context.sms_consent else ""
    applicant = {
        "kind": "business" if text(record, "LoaiDoiTuong") == "2" else "citizen",
        "name": _short(text(record, "ChuHoSo"), "Không rõ")[:300],
        "phone": phone or None,
        "sms_consent": context.sms_consent and bool(phone),
    }
    submitted_at, received = date(record, "NgayNopHoSo"), date(record, "NgayTiepNhan")
    submitted = {"channel": dossier.channel.value, "applicant": applicant}
    if submitted_at is not None:
        dossier.add(EventType.DOSSIER_SUBMITTED, submitted_at, submitted)
    elif now is Status.REGISTERED:
        if received is not None:
            dossier.add(EventType.DOSSIER_SUBMITTED, received, submitted)
        else:
            dossier.add_undated(EventType.DOSSIER_SUBMITTED, now, submitted)
    if now is Status.REGISTERED or now is Status.NOT_ACCEPTED or (received is None and now in ENDED):
        return
    due = original_due(record)
    if due is None:
        raise RecordError(ResultCode.REFUSED_BY_RULES, "NgayHenTra: required once the dossier is accepted")
    receiving = tables.agency(text(record, "DonViTiepNhan")) or dossier.ref["agency"]
    accepted = {
        **submitted,
        "receiving_agency": receiving,
        "officer": tables.officer,
        "due_at": due.isoformat(),
        "digitized": bool(items(record, "TaiLieuNop")),
        "reused_data": False,
    }
    if received is not None:
        dossier.add(EventType.DOSSIER_ACCEPTED, received, accepted)
    else:
        dossier.add_undated(EventType.DOSSIER_ACCEPTED, Status.ACCEPTED, accepted)


def _supplements(dossier: _Dossier, record: Mapping[str, Any]) -> None:
    officer = dossier.context.tables.officer
    for item in supplement_items(record):
        asked = date(item, "NgayBoSung")
        assert asked is not None
        reason = _short(text(item, "NoiDungBoSung"), "Yêu cầu bổ sung hồ sơ")
        dossier.add(EventType.DOSSIER_SUPPLEMENT_REQUESTED, asked, {"officer": officer, "reason": reason})
        received = date(item, "NgayTiepNhanBoSung")
        if received is not None:
            dossier.add(EventType.DOSSIER_SUPPLEMENT_RECEIVED, received, {})
        new_due, old_due = date(item, "NgayHenTraMoi"), date(item, "NgayHenTraTruoc")
        if new_due is not None and new_due != old_due:
            reason = "Hẹn lại ngày trả kết quả sau khi bổ sung hồ sơ"
            data = {"officer": officer, "new_due_at": new_due.isoformat(), "reason": reason}
            dossier.add(EventType.DOSSIER_RESCHEDULED, received or asked, data)


def _payment(dossier: _Dossier, record: Mapping[str, Any], now: Status) -> None:
    fee = {"fee_amount": read_fee(record)}
    if now is Status.PAYMENT_REQUESTED:
        dossier.add_undated(EventType.DOSSIER_PAYMENT_REQUESTED, now, fee)
    elif now in _AFTER_PAYMENT and (asked := dossier.assigned_time(EventType.DOSSIER_PAYMENT_REQUESTED)):
        paid_online = text(record, "DuocThanhToanTrucTuyen").lower() in {"1", "true"}
        data = {**fee, "paid_online": paid_online}
        dossier.add_undated(EventType.DOSSIER_PAID, Status.PROCESSING, data, not_before=asked)


def _ending(dossier: _Dossier, record: Mapping[str, Any], now: Status) -> None:
    finished = date(record, "NgayKetThucXuLy")
    officer = dossier.context.tables.officer
    if now in _ENDINGS:
        kind, default_reason = _ENDINGS[now]
        reason = _short(text(record, "GhiChu") or text(record, "ThongTinKhac"), default_reason)
        data: dict[str, Any] = {"reason": reason} if now is Status.WITHDRAWN else {"officer": officer, "reason": reason}
        if finished is not None:
            dossier.add(kind, finished, data)
        else:
            dossier.add_undated(kind, now, data)
        return
    results = bool(items(record, "DanhSachGiayToKetQua"))
    processed = {"officer": officer, "result_electronic": results, "result_digitized": results}
    if finished is not None:
        dossier.add(EventType.DOSSIER_PROCESSED, finished, processed)
    elif now in (Status.PROCESSED, Status.RETURNED):
        dossier.add_undated(EventType.DOSSIER_PROCESSED, Status.PROCESSED, processed)
    if now is Status.RETURNED:
        returned = {"delivery": DEFAULT_DELIVERIES[dossier.channel].value}
        returned_at = date(record, "NgayTra")
        if returned_at is not None:
            dossier.add(EventType.DOSSIER_RETURNED, returned_at, returned)
        else:
            dossier.add_undated(EventType.DOSSIER_RETURNED, now, returned)


def map_step(record: Mapping[str, Any], memo: DossierMemo | None, context: Context) -> RecordOutcome:
    """A `CapNhatTienDoHoSoMC` step: dates its status for later snapshots; a transfer to the person or
    department who handled it once the dossier is known from a snapshot."""
    code = dossier_code(record)
    try:
        at = date(record, "ThoiDiemXuLy") or date(record, "NgayBatDau")
        if at is None:
            raise RecordError(ResultCode.INVALID_RECORD, "ThoiDiemXuLy: required")
        step_status = status(record, "TrangThai")
        window = context.window
        if window is not None and not window.earliest <= at <= window.latest:
            raise RecordError(ResultCode.REFUSED_BY_RULES, f"ThoiDiemXuLy: {stamp(at)} is outside the accepted times")
    except RecordError as error:
        return RecordOutcome(code, error.code, error.reason)
    memo = replace(memo or DossierMemo())
    memo.assigned, memo.step_times = dict(memo.assigned), dict(memo.step_times)
    if step_status is not None:
        memo.step_times.setdefault(step_status.value, at.isoformat())
    if memo.procedure_code is None or memo.agency is None:
        reason = "no DongBoHoSoMC snapshot of this dossier yet: its step was kept to date its status; resend it after"
        return RecordOutcome(code, ResultCode.UNKNOWN_DOSSIER, reason, (), memo)
    ref = {"dossier_code": code, "procedure_code": memo.procedure_code, "agency": memo.agency}
    dossier = _Dossier(code, ref, memo, context, context.tables.default_channel, [])
    person, department = text(record, "NguoiXuLy"), text(record, "PhongBanXuLy")
    if person or department:
        tables = context.tables
        data = {
            "officer": tables.officer,
            "to_agency": tables.agency(department) or memo.agency,
            "to_officer": pseudonym(person) if person else tables.officer,
        }
        dossier.add(EventType.DOSSIER_TRANSFERRED, at, data)
    return RecordOutcome(code, ResultCode.OK, f"{len(dossier.events)} event(s)", dossier.events, memo)

"""The optional steps of a dossier's handling: transfer, payment, supplement, stop, withdrawal, apology."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.contracts.events import EventType
from services.simulator.model import Pause
from services.simulator.timeline import DAY, Life

REJECT_REASONS = (
    "Hồ sơ không thuộc thẩm quyền giải quyết của xã",
    "Thành phần hồ sơ không đúng theo quy định",
    "Người yêu cầu không đủ điều kiện thực hiện thủ tục",
)
SUPPLEMENT_REASONS = (
    "Thiếu bản sao giấy tờ tùy thân của người yêu cầu",
    "Tờ khai chưa ghi đầy đủ thông tin theo mẫu",
    "Thiếu giấy tờ chứng minh nơi cư trú",
    "Bản chụp giấy tờ không rõ nét, đề nghị bổ sung bản chụp khác",
    "Thiếu văn bản ủy quyền hợp lệ",
)
RESCHEDULE_REASONS = (
    "Cần xác minh thêm thông tin tại cơ quan liên quan",
    "Chờ ý kiến phối hợp của cơ quan chuyên môn",
    "Cần thẩm tra thực địa trước khi giải quyết",
)
WITHDRAW_REASONS = ("Công dân rút hồ sơ", "Người yêu cầu không còn nhu cầu giải quyết", "Nộp trùng hồ sơ")
STOP_REASON = "Công dân không bổ sung hồ sơ trong thời hạn quy định"


def _transfer(life: Life) -> str:
    ctx, rng, truth = life.ctx, life.rng, life.truth
    to_agency = rng.choice(ctx.commune.transfers.get(truth.final_agency, [truth.final_agency]))
    candidates = [officer for officer in ctx.commune.handlers(to_agency) if officer != truth.officer]
    to_officer = rng.choice(candidates or list(ctx.commune.handlers(to_agency)))
    life.emit(
        EventType.DOSSIER_TRANSFERRED,
        "transferred",
        {"officer": truth.officer, "to_agency": to_agency, "to_officer": to_officer},
    )
    truth.transfers.append((life.t, to_agency, to_officer))
    truth.final_agency, truth.officer = to_agency, to_officer
    return "continue"


def _payment(life: Life) -> str:
    ctx, rng, truth = life.ctx, life.rng, life.truth
    fee = ctx.procedure.fee
    truth.payment_requested_at = start = life.t
    life.emit(EventType.DOSSIER_PAYMENT_REQUESTED, "payment_requested", {"fee_amount": fee})
    channel = ctx.channel
    truth.paid_online = rng.random() < {"online": 0.92, "postal": 0.6, "direct": 0.35}[channel]
    wait = rng.uniform(120, 1200) if channel == "direct" else rng.uniform(1800, 1.5 * DAY)
    truth.paid_at = life.after(wait)
    source = ctx.commune.payments_source if truth.paid_online else None
    life.emit(EventType.DOSSIER_PAID, "paid", {"fee_amount": fee, "paid_online": truth.paid_online}, source)
    truth.pauses.append(Pause("payment", start, truth.paid_at))
    return "continue"


def _request_supplement(life: Life, number: int) -> datetime:
    truth = life.truth
    truth.supplement_requests.append(life.t)
    data = {"officer": truth.officer, "reason": life.rng.choice(SUPPLEMENT_REASONS)}
    life.emit(EventType.DOSSIER_SUPPLEMENT_REQUESTED, f"supplement_requested-{number}", data)
    return life.t


def _supplement(life: Life) -> str:
    rng, truth = life.rng, life.truth
    rounds = 2 if rng.random() < life.ctx.config.second_supplement_share else 1
    for number in range(1, rounds + 1):
        if number > 1:
            life.after(rng.uniform(0.1, 0.5) * DAY)
        start = _request_supplement(life, number)
        life.after(rng.uniform(0.3, 4.0) * DAY)
        life.emit(EventType.DOSSIER_SUPPLEMENT_RECEIVED, f"supplement_received-{number}", {})
        truth.pauses.append(Pause("supplement", start, life.t))
    return "continue"


def _stop(life: Life) -> str:
    truth = life.truth
    start = _request_supplement(life, 1)
    truth.stopped_at = life.after(10 * DAY)
    truth.pauses.append(Pause("supplement", start, None))
    life.emit(EventType.DOSSIER_STOPPED, "stopped", {"officer": truth.officer, "reason": STOP_REASON})
    return "ended"


def _withdraw(life: Life) -> str:
    life.truth.withdrawn_at = life.t
    life.emit(EventType.DOSSIER_WITHDRAWN, "withdrawn", {"reason": life.rng.choice(WITHDRAW_REASONS)})
    return "ended"


def _reschedule(life: Life) -> str:
    truth = life.truth
    assert truth.due_at is not None
    truth.rescheduled_at = life.t
    # the new promise follows the original date, and never lies before the slip itself (ingest refuses that)
    promised_from = max(truth.due_at, life.t)
    truth.rescheduled_due_at = life.ctx.legal.add_working_time(promised_from, life.rng.uniform(1.0, 3.0) * DAY)
    data = {
        "officer": truth.officer,
        "new_due_at": truth.rescheduled_due_at.isoformat(),
        "reason": life.rng.choice(RESCHEDULE_REASONS),
    }
    life.emit(EventType.DOSSIER_RESCHEDULED, "rescheduled", data)
    return "continue"


STEPS: dict[str, Callable[[Life], str]] = {
    "transfer": _transfer,
    "payment": _payment,
    "supplement": _supplement,
    "stop": _stop,
    "withdraw": _withdraw,
    "reschedule": _reschedule,
}

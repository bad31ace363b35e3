"""Notification statuses (as GOV.UK Notify names them, plus `superseded` and `unknown`), their Vietnamese
labels and the one table of allowed transitions (`TRANSITIONS`), which the stores enforce on every write.

created -> sending -> sent -> delivered | temporary-failure | permanent-failure
created -> sending -> created (provider unavailable: retried later) ... -> technical-failure (retries exhausted)
created -> superseded (a newer step of the same dossier made it obsolete before it was sent)
sending -> unknown (the provider may have taken it: never resent) -> delivered | *-failure by a receipt
sending with no provider answer recorded for too long (a crash while sending) -> unknown
sent without a receipt for too long -> temporary-failure (never resent: a citizen never gets two)
validation-failed and skipped are decided when the event arrives (or, for opt-out and consent, before sending).
"""

from __future__ import annotations

from services.contracts.alerts import NotificationStatus as S
from services.notifier.domain.sending import ReceiptStatus

LABELS_VI: dict[S, str] = {
    S.CREATED: "Chờ gửi",
    S.SENDING: "Đang gửi",
    S.SENT: "Đã gửi tới nhà mạng",
    S.DELIVERED: "Đã đến máy người nhận",
    S.TEMPORARY_FAILURE: "Chưa đến được máy người nhận (tạm thời)",
    S.PERMANENT_FAILURE: "Không gửi được (số không tồn tại hoặc bị chặn)",
    S.TECHNICAL_FAILURE: "Lỗi kỹ thuật, không gửi được",
    S.VALIDATION_FAILED: "Không hợp lệ, không gửi",
    S.SKIPPED: "Không gửi",
    S.SUPERSEDED: "Không gửi vì hồ sơ đã có bước mới hơn",
    S.UNKNOWN: "Chưa rõ nhà mạng đã nhận tin hay chưa",
}

REASONS_VI: dict[str, str] = {
    "stale_event": "Sự kiện đã cũ (nhập bù hoặc phát lại), không nhắn tin",
    "no_contact": "Chưa có số điện thoại của người nộp hồ sơ",
    "awaiting_contact": "Chờ thông tin liên hệ của người nộp hồ sơ",
    "no_staff_phone": "Không có số điện thoại cán bộ trong danh bạ",
    "no_consent": "Người nộp hồ sơ không đồng ý nhận tin nhắn",
    "invalid_phone": "Số điện thoại không hợp lệ",
    "opted_out": "Người nhận đã từ chối nhận tin nhắn",
    "citizen_id": "Nội dung chứa số định danh cá nhân",
    "too_long": "Nội dung quá dài",
    "missing_value": "Thiếu thông tin để soạn tin",
    "empty": "Nội dung trống",
    "duplicate": "Đã gửi tin nhắn giống hệt",
    "recipient_cap": "Vượt số tin nhắn tối đa trong ngày cho một người nhận",
    "dossier_cap": "Vượt số tin nhắn tối đa trong ngày cho một hồ sơ",
    "retries_exhausted": "Nhà mạng không nhận tin sau nhiều lần thử",
    "provider_rejected": "Nhà mạng từ chối tin nhắn",
    "no_receipt": "Không nhận được báo cáo gửi tin",
    "phone_unreadable": "Không giải mã được số điện thoại đã lưu",
    "delivery_report": "Theo báo cáo của nhà mạng",
    "superseded_by_newer_step": "Hồ sơ đã chuyển sang bước mới hơn, tin nhắn không còn đúng",
    "provider_timeout": "Nhà mạng không trả lời kịp, có thể đã nhận tin",
    "connection_lost": "Mất kết nối sau khi gửi yêu cầu, có thể nhà mạng đã nhận tin",
    "partly_sent": "Nhà mạng mới nhận một phần tin nhắn dài",
    "needs_review": "Quá thời gian chờ báo cáo, cần cán bộ kiểm tra với nhà mạng",
    "no_send_result": "Dịch vụ dừng khi đang gửi, chưa rõ nhà mạng đã nhận tin hay chưa",
}

AWAITING_CONTACT = "awaiting_contact"  # reason of a `created` message whose dossier contact has not arrived
NEEDS_REVIEW = "needs_review"  # reason of an `unknown` message no receipt settled within the review window

FINAL: frozenset[S] = frozenset(
    {S.DELIVERED, S.PERMANENT_FAILURE, S.TECHNICAL_FAILURE, S.VALIDATION_FAILED, S.SKIPPED, S.SUPERSEDED}
)
AWAITING_RECEIPT: frozenset[S] = frozenset({S.SENDING, S.SENT})
# A late "delivered" may still follow a temporary failure (the phone was switched off, then on).
ACCEPTS_RECEIPT: frozenset[S] = frozenset({S.SENDING, S.SENT, S.UNKNOWN, S.TEMPORARY_FAILURE})

_RECEIPT_OUTCOMES = (S.DELIVERED, S.TEMPORARY_FAILURE, S.PERMANENT_FAILURE)
# (from, to): every status change the notifier may write. `created -> created` is a waiting message being
# decided (its contact arrived) or rescheduled; `sending -> created` a retry after a definite refusal.
TRANSITIONS: frozenset[tuple[S, S]] = frozenset(
    {
        (S.CREATED, S.CREATED),
        (S.CREATED, S.SENDING),
        (S.CREATED, S.SKIPPED),
        (S.CREATED, S.VALIDATION_FAILED),
        (S.CREATED, S.SUPERSEDED),
        (S.SENDING, S.CREATED),
        (S.SENDING, S.SENT),
        (S.SENDING, S.UNKNOWN),
        (S.SENDING, S.PERMANENT_FAILURE),
        (S.SENDING, S.TECHNICAL_FAILURE),
        *((S.SENDING, outcome) for outcome in _RECEIPT_OUTCOMES),
        *((S.SENT, outcome) for outcome in _RECEIPT_OUTCOMES),
        *((S.UNKNOWN, outcome) for outcome in _RECEIPT_OUTCOMES),
        (S.UNKNOWN, S.UNKNOWN),  # listed for the operator (reason needs_review) after the review window
        (S.UNKNOWN, S.SENT),  # the provider's acceptance came after the sweep gave up waiting for it
        (S.TEMPORARY_FAILURE, S.DELIVERED),
    }
)
# toward daily caps and duplicates (an `unknown` message may have reached the phone)
COUNTED: tuple[S, ...] = (S.CREATED, S.SENDING, S.SENT, S.UNKNOWN, S.DELIVERED, S.TEMPORARY_FAILURE)

RECEIPT_STATUS: dict[ReceiptStatus, S] = {
    ReceiptStatus.DELIVERED: S.DELIVERED,
    ReceiptStatus.TEMPORARY_FAILURE: S.TEMPORARY_FAILURE,
    ReceiptStatus.PERMANENT_FAILURE: S.PERMANENT_FAILURE,
}


def label(status: S) -> str:
    return LABELS_VI[status]


def reason_label(reason: str | None) -> str | None:
    if reason is None:
        return None
    return REASONS_VI.get(reason, reason)


class IllegalTransition(ValueError):
    """A status change the transition table forbids (a bug in whoever asked for it, never bad input)."""

    def __init__(self, current: S, new: S) -> None:
        super().__init__(f"notification status may not change from {current.value} to {new.value}")
        self.current, self.new = current, new


def transition_allowed(current: S, new: S) -> bool:
    return (current, new) in TRANSITIONS


def ensure_transition(current: S, new: S) -> S:
    """`new` if the table allows `current -> new`; raises `IllegalTransition` otherwise."""
    if not transition_allowed(current, new):
        raise IllegalTransition(current, new)
    return new


def sources_of(new: S) -> frozenset[S]:
    """The statuses a notification may be in to enter `new` (the guard of every status UPDATE)."""
    return frozenset(current for current, target in TRANSITIONS if target is new)


def receipt_applies(current: S, receipt: ReceiptStatus) -> bool:
    """A receipt moves a notification still waiting for one; a temporary failure only ever becomes delivered."""
    return current in ACCEPTS_RECEIPT and transition_allowed(current, RECEIPT_STATUS[receipt])

"""Notification statuses (as GOV.UK Notify names them), their Vietnamese labels and allowed transitions.

created -> sending -> sent -> delivered | temporary-failure | permanent-failure
created -> sending -> created (provider unavailable: retried later) ... -> technical-failure (retries exhausted)
sending | sent without a receipt for too long -> temporary-failure (never resent: a citizen never gets two)
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
}

AWAITING_CONTACT = "awaiting_contact"  # reason of a `created` message whose dossier contact has not arrived

FINAL: frozenset[S] = frozenset({S.DELIVERED, S.PERMANENT_FAILURE, S.TECHNICAL_FAILURE, S.VALIDATION_FAILED, S.SKIPPED})
AWAITING_RECEIPT: frozenset[S] = frozenset({S.SENDING, S.SENT})
# A late "delivered" may still follow a temporary failure (the phone was switched off, then on).
ACCEPTS_RECEIPT: frozenset[S] = frozenset({S.SENDING, S.SENT, S.TEMPORARY_FAILURE})
COUNTED: tuple[S, ...] = (S.CREATED, S.SENDING, S.SENT, S.DELIVERED, S.TEMPORARY_FAILURE)  # toward daily caps

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


def receipt_applies(current: S, receipt: ReceiptStatus) -> bool:
    """A receipt moves a notification still waiting for one; a temporary failure only ever becomes delivered."""
    if current not in ACCEPTS_RECEIPT:
        return False
    if current is S.TEMPORARY_FAILURE:
        return receipt is ReceiptStatus.DELIVERED
    return True

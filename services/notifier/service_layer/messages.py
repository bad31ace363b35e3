"""What the notifier's use cases pass around: a status change to write, a message due for sending, a message
claimed for sending, a stored dossier contact, a notification counted toward the caps, a dossier step and a
message it may supersede, what a retention purge removed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.contracts.alerts import NotificationStatus as S


@dataclass(frozen=True)
class Change:
    """One status change to write: the row's new values and its status event."""

    id: str
    template_id: str
    dossier_code: str | None
    status: S
    values: dict[str, Any]
    reason: str | None = None
    provider: str | None = None


@dataclass(frozen=True)
class Due:
    """A `created` message whose time has come, as the claim reads it (before deciding whether it may leave)."""

    id: str
    template_id: str
    dossier_code: str | None
    audience: str
    phone_encrypted: bytes | None
    phone_hash: str | None
    text: str
    encoding: str
    segments: int
    attempts: int  # made so far
    event_kind: str | None
    event_time: datetime | None


@dataclass(frozen=True)
class Claimed:
    id: str
    template_id: str
    dossier_code: str | None
    audience: str
    phone_encrypted: bytes | None
    text: str
    encoding: str
    segments: int
    attempts: int  # including the one being made


@dataclass(frozen=True)
class Purged:
    notifications: int
    contacts: int
    receipts: int


@dataclass(frozen=True)
class CountedRow:
    """A notification that counts toward the daily caps."""

    phone_hash: str | None
    dossier_code: str | None
    audience: str
    send_after: datetime


@dataclass(frozen=True)
class Step:
    dossier_code: str
    kind: str
    time: datetime


@dataclass(frozen=True)
class Waiting:
    """A message not sent yet, as the superseding rule sees it."""

    id: str
    template_id: str
    dossier_code: str
    event_kind: str
    event_time: datetime


@dataclass(frozen=True)
class StoredContact:
    dossier_code: str
    phone_encrypted: bytes | None
    sms_consent: bool
    event_time: datetime
    applicant_kind: str | None = None
    channel: str | None = None

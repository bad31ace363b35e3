"""Vietnamese formats for SMS placeholders: money, dates, times."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def vnd(amount: int) -> str:
    """`50000` -> `50.000 đồng` (dots group thousands, as Vietnamese writes money)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,} đồng".replace(",", ".")


def local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def day(value: date | datetime, timezone: str | None = None) -> str:
    """`05/03/2026`."""
    if isinstance(value, datetime):
        value = local(value, timezone or "Asia/Ho_Chi_Minh").date()
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def moment(value: datetime, timezone: str) -> str:
    """`17:00 ngày 05/03/2026` (local time)."""
    at = local(value, timezone)
    return f"{at.hour:02d}:{at.minute:02d} ngày {day(at.date())}"

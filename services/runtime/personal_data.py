"""Masking personal data (applicant names, phone numbers) in what the operator CLIs print: `ingest read` and
`dlq list`. Used on output only: the stored bytes stay as they are (redrive and replay need them whole)."""

from __future__ import annotations

import json
import re
from typing import Any

PERSONAL_KEYS = frozenset({"name", "phone", "full_name", "phone_number", "email", "address"})
# A bare `name` is personal inside a person only (a procedure's or a unit's name is not)
PERSON_OBJECTS = frozenset({"applicant", "citizen", "person", "recipient", "contact"})
# Vietnamese phone numbers as people write them: 0912345678, 0912 345 678, +84 912.345.678, 84912345678
_PHONE = re.compile(r"(?<![\w+])(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
_KEYS = "|".join(sorted(PERSONAL_KEYS))
_KEYED_VALUE = re.compile(
    rf"""(?P<key>["']?\b(?:{_KEYS})\b["']?\s*[:=]\s*)(?P<quote>["'])(?P<value>(?:\\.|(?!(?P=quote)).)*)(?P=quote)""",
    re.IGNORECASE,
)


def mask_phone(text: str) -> str:
    """`0912345678` -> `09******78`: the first two and last two digits, never more."""
    digits = re.sub(r"\D", "", text)
    if digits.startswith("84") and len(digits) > 10:
        digits = "0" + digits[2:]
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]


def mask_name(name: str) -> str:
    """`Nguyễn Thị Hồng Nhung` -> `N*** T*** H*** N***`: each word's initial, nothing more (not even its length)."""
    return " ".join(word[0] + "***" for word in name.split())


def _is_personal(key: str, parent: str | None) -> bool:
    key = key.lower()
    if key == "name":
        return parent is not None and parent.lower() in PERSON_OBJECTS
    return key in PERSONAL_KEYS


def _mask_value(key: str, value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # a phone sent as a number is still a phone
    if not isinstance(value, str) or not value:
        return mask_json(value, key)
    return mask_phone(value) if "phone" in key.lower() else mask_name(value)


def mask_json(value: Any, parent: str | None = None) -> Any:
    """A copy of a decoded JSON document with personal values (the applicant's name and phone, any phone-like
    string) masked."""
    if isinstance(value, dict):
        return {
            key: _mask_value(key, item) if _is_personal(key, parent) else mask_json(item, key)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_json(item, parent) for item in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_text(text: str) -> str:
    """Free text (an error message, a payload that is not JSON): `name: '...'`-like values and phone numbers."""

    def keyed(match: re.Match[str]) -> str:
        key, quote, value = match.group("key"), match.group("quote"), match.group("value")
        masked = mask_phone(value) if "phone" in key.lower() else mask_name(value)
        return f"{key}{quote}{masked}{quote}"

    return _PHONE.sub(lambda match: mask_phone(match.group(0)), _KEYED_VALUE.sub(keyed, text))


def mask_payload(payload: bytes) -> bytes:
    """A message body for display: JSON re-encoded compactly with personal values masked, anything else as
    masked text."""
    try:
        document = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return mask_text(payload.decode("utf-8", errors="replace")).encode("utf-8")
    return json.dumps(mask_json(document), ensure_ascii=False, separators=(",", ":")).encode("utf-8")

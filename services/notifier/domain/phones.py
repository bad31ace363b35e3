"""Vietnamese phone numbers: the 2018 conversion of 11-digit mobile numbers, and masking for display.

Validation proper (is it a real, mobile number?) uses the `phonenumbers` library in adapters/phones.py.
"""

from __future__ import annotations

import re

# The 11-digit prefixes retired in 2018 (Bộ TT&TT) and the 10-digit prefixes that replaced them.
LEGACY_PREFIXES: dict[str, str] = {
    **{f"016{digit}": f"03{digit}" for digit in "23456789"},
    "0120": "070",
    "0121": "079",
    "0122": "077",
    "0126": "076",
    "0128": "078",
    "0123": "083",
    "0124": "084",
    "0125": "085",
    "0127": "081",
    "0129": "082",
    "0186": "056",
    "0188": "058",
    "0199": "059",
}
_SEPARATORS = re.compile(r"[\s.\-()/]")


def clean(raw: str) -> str:
    """Digits and a leading '+' only (spaces, dots, dashes, brackets removed)."""
    return _SEPARATORS.sub("", raw.strip())


def modernize(raw: str) -> str:
    """`0162 345 6789` -> `0323456789`, also from `+84 162...` / `84162...` / `0084162...`; other input
    comes back cleaned but otherwise unchanged (validation happens afterwards)."""
    number = clean(raw)
    national: str | None = None
    for international in ("+84", "0084", "84"):
        if number.startswith(international) and len(number) - len(international) == 10:
            national = "0" + number[len(international) :]
            break
    if national is None and number.startswith("0") and len(number) == 11:
        national = number
    if national is None or not national.isdigit():
        return number
    new_prefix = LEGACY_PREFIXES.get(national[:4])
    if new_prefix is None:
        return number
    return new_prefix + national[4:]


def national_digits(e164: str) -> str:
    """`+84912345678` -> `0912345678`; a foreign number keeps its `+` and country code."""
    if e164.startswith("+84"):
        return "0" + e164[3:]
    return e164


def mask(e164: str | None) -> str | None:
    """`09******78`: the first two and last two digits, never more (for APIs and logs)."""
    if not e164:
        return None
    digits = national_digits(e164)
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]

"""Vietnamese mobile numbers to E.164 with `phonenumbers` (after the 2018 prefix conversion)."""

from __future__ import annotations

import phonenumbers

from services.notifier.domain.phones import modernize

_MOBILE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def to_e164(raw: str | None) -> str | None:
    """`0162 345 6789` -> `+84323456789`; None for anything that is not a valid Vietnamese mobile number."""
    if raw is None or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(modernize(raw), "VN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 84 or not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in _MOBILE:
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))

"""SMPP 3.4 message encoding and delivery-receipt parsing (pure functions; PDUs are built by smpplib).

GSM-7 travels with data_coding 0 unpacked, one septet per octet, as SMSCs expect over SMPP (the SMSC packs
it for the air interface); characters of the extension table take two septets (ESC + code) and are never
split across segments. UCS-2 travels with data_coding 8, UTF-16 big-endian, a surrogate pair never split.
Long messages carry a concatenation UDH (05 00 03 ref total seq) with esm_class UDHI (0x40).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smpplib import gsm

from services.notifier.domain.sending import Encoding, ReceiptStatus

DATA_CODING_GSM7 = 0x00
DATA_CODING_UCS2 = 0x08
ESM_CLASS_DEFAULT = 0x00
ESM_CLASS_UDHI = 0x40
ESM_CLASS_RECEIPT = 0x04  # SMSC delivery receipt (bits 5..2 of esm_class)

GSM7_SINGLE, GSM7_PART = 160, 153  # septets
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units


@dataclass(frozen=True)
class Segment:
    short_message: bytes  # UDH (if any) + user data
    data_coding: int
    esm_class: int


def _gsm7_char(char: str) -> bytes:
    if char == "`":  # smpplib's table uses '`' as its filler: it is not a GSM-7 character
        raise UnicodeError(char)
    if char == "§":  # the table's filler hides GSM-7 0x5F
        return b"\x5f"
    if char == "\f":  # extension 0x0A (page break), missing from smpplib's table
        return b"\x1b\x0a"
    encoded: bytes = gsm.gsm_encode(char)
    return encoded


def _gsm7_units(text: str) -> list[bytes] | None:
    try:
        return [_gsm7_char(char) for char in text]
    except (UnicodeError, ValueError):
        return None


def _ucs2_units(text: str) -> list[bytes]:
    return [char.encode("utf-16-be") for char in text]  # 2 bytes, or 4 for a surrogate pair: never split


def _chunks(units: list[bytes], limit: int, size_of: int) -> list[bytes]:
    """Groups whole units into chunks of at most `limit` (septets or code units)."""
    chunks: list[bytes] = []
    current: list[bytes] = []
    used = 0
    for unit in units:
        weight = len(unit) // size_of
        if used + weight > limit:
            chunks.append(b"".join(current))
            current, used = [], 0
        current.append(unit)
        used += weight
    chunks.append(b"".join(current))
    return chunks


def encode_segments(text: str, encoding: Encoding, reference: int) -> list[Segment]:
    """The submit_sm payloads for a message; GSM-7 falls back to UCS-2 when a character is not in GSM-7."""
    gsm_units = _gsm7_units(text) if encoding is Encoding.GSM7 else None
    if gsm_units is not None:
        units, coding, size_of, single, part = gsm_units, DATA_CODING_GSM7, 1, GSM7_SINGLE, GSM7_PART
    else:
        units, coding, size_of, single, part = _ucs2_units(text), DATA_CODING_UCS2, 2, UCS2_SINGLE, UCS2_PART
    if sum(len(unit) for unit in units) // size_of <= single:
        return [Segment(b"".join(units), coding, ESM_CLASS_DEFAULT)]
    chunks = _chunks(units, part, size_of)
    if len(chunks) > 255:
        raise ValueError(f"message too long: {len(chunks)} segments")
    total = len(chunks)
    return [
        Segment(bytes([0x05, 0x00, 0x03, reference & 0xFF, total, index]) + chunk, coding, ESM_CLASS_UDHI)
        for index, chunk in enumerate(chunks, start=1)
    ]


def smpp_address(e164: str) -> str:
    return e164.removeprefix("+")


# -- delivery receipts ------------------------------------------------------------------------------------

_RECEIPT_FIELD = re.compile(r"(id|sub|dlvrd|submit date|done date|stat|err|text):", re.IGNORECASE)
_STAT = {
    "DELIVRD": ReceiptStatus.DELIVERED,
    "EXPIRED": ReceiptStatus.TEMPORARY_FAILURE,  # the phone stayed unreachable for the validity period
    "UNKNOWN": ReceiptStatus.TEMPORARY_FAILURE,
    "UNDELIV": ReceiptStatus.PERMANENT_FAILURE,
    "REJECTD": ReceiptStatus.PERMANENT_FAILURE,
    "DELETED": ReceiptStatus.PERMANENT_FAILURE,
}
_MESSAGE_STATE = {2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD"}


@dataclass(frozen=True)
class SmscReceipt:
    message_id: str
    stat: str
    status: ReceiptStatus | None  # None: an intermediate state (ENROUTE, ACCEPTD), not a final receipt
    error: str | None


def receipt_fields(text: str) -> dict[str, str]:
    """`id:abc sub:001 ... stat:DELIVRD err:000 text:...` as {"id": "abc", ...}."""
    fields: dict[str, str] = {}
    matches = list(_RECEIPT_FIELD.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        fields[match.group(1).lower()] = text[match.end() : end].strip()
    return fields


def parse_smsc_receipt(
    short_message: bytes, receipted_message_id: str | None, message_state: int | None
) -> SmscReceipt | None:
    """A deliver_sm delivery receipt (esm_class 0x04); None when it carries no message id."""
    fields = receipt_fields(short_message.decode("latin-1"))
    message_id = (receipted_message_id or fields.get("id") or "").strip()
    if not message_id:
        return None
    stat = (fields.get("stat") or _MESSAGE_STATE.get(message_state or 0) or "UNKNOWN").upper()
    return SmscReceipt(
        message_id, stat, _STAT.get(stat) if stat not in ("ENROUTE", "ACCEPTD") else None, fields.get("err")
    )


def message_id_variants(message_id: str) -> list[str]:
    """The id as given, and its hex/decimal twin: some SMSCs answer submit_sm in hex and receipt in decimal."""
    variants = [message_id]
    if message_id.isdigit():
        variants.append(format(int(message_id), "x"))
        variants.append(format(int(message_id), "X"))
    if message_id and all(char in "0123456789abcdefABCDEF" for char in message_id):
        variants.append(str(int(message_id, 16)))
    return list(dict.fromkeys(variants))

"""The SMS text pipeline: NFC normalisation, accent stripping, GSM-7 / UCS-2 choice, segment count, and the
checks a message must pass before it may leave (no citizen ID number).

GOV.UK Notify squeezes every message into GSM-7 and so garbles Vietnamese ("Hồ sơ" -> "H? s?"). Here a
template chooses: keep the diacritics (UCS-2 when needed, 70/67 characters per segment) or write it unaccented
on purpose ("Ho so", GSM-7, 160/153), never a mix of both.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from services.notifier.domain.sending import Encoding

# GSM 03.38 default alphabet (one septet each) and its extension table (escape + one septet: two each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153  # septets: one-segment message, each part of a concatenated one
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units

# Typography that has a plain GSM-7 equivalent (applied when a message must be unaccented).
_GSM_FALLBACKS = {
    "\u00a0": " ",
    "\u2007": " ",
    "\u202f": " ",
    "\t": " ",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u2022": "-",
    "`": "'",
    "\u00b4": "'",
}
UNKNOWN_GSM = "?"

# 12 digits (optionally grouped by single spaces), not part of a longer run: a citizen ID (CCCD) number.
_CITIZEN_ID = re.compile(r"(?<!\d)\d(?: ?\d){11}(?!\d)")
_SPACES = re.compile(r"[ \t\u00a0\u2007\u202f]+")


class TextPolicy(StrEnum):
    KEEP_DIACRITICS = "keep-diacritics"
    UNACCENTED = "unaccented"


def normalize(text: str) -> str:
    """NFC: a letter with its tone mark is one code point ("ộ", not "o" + two combining marks)."""
    return unicodedata.normalize("NFC", text)


def strip_accents(text: str) -> str:
    """Remove every Vietnamese tone and vowel mark: "Hồ sơ của ông/bà" -> "Ho so cua ong/ba", "Đ" -> "D".

    Decomposes (NFD) so that double-marked letters (ấ = a + circumflex + acute, ự = u + horn + dot) lose both
    marks, drops the combining marks, and maps the two letters that do not decompose (đ, Đ).
    """
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(char for char in decomposed if unicodedata.category(char) != "Mn")
    return unicodedata.normalize("NFC", stripped.replace("đ", "d").replace("Đ", "D"))


def to_gsm7(text: str) -> str:
    """Unaccented text made representable in GSM-7: typographic fallbacks, anything else becomes '?'."""
    out: list[str] = []
    for char in strip_accents(text):
        if char in GSM7_BASIC or char in GSM7_EXTENSION:
            out.append(char)
        else:
            out.append(_GSM_FALLBACKS.get(char, UNKNOWN_GSM))
    return "".join(out)


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _gsm7_costs(text: str) -> list[int]:
    return [2 if char in GSM7_EXTENSION else 1 for char in text]


def _ucs2_costs(text: str) -> list[int]:
    return [2 if ord(char) > 0xFFFF else 1 for char in text]  # a surrogate pair is two code units


def _pack(costs: list[int], single: int, part: int) -> int:
    """Segments needed; an escape sequence or a surrogate pair is never split between two parts."""
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments += 1
            used = 0
        used += cost
    return segments


@dataclass(frozen=True)
class SmsLength:
    encoding: Encoding
    characters: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def measure(text: str) -> SmsLength:
    """The encoding a carrier would use for `text` as it is, and the exact number of segments."""
    if is_gsm7(text):
        costs = _gsm7_costs(text)
        return SmsLength(Encoding.GSM7, len(text), sum(costs), _pack(costs, GSM7_SINGLE, GSM7_PART))
    costs = _ucs2_costs(text)
    return SmsLength(Encoding.UCS2, len(text), sum(costs), _pack(costs, UCS2_SINGLE, UCS2_PART))


def contains_citizen_id(text: str) -> bool:
    return _CITIZEN_ID.search(text) is not None


def clean_value(value: str, max_length: int | None = None) -> str:
    """A placeholder value fit for an SMS: NFC, no control characters or characters outside the BMP,
    whitespace collapsed, cut to `max_length` with an ellipsis."""
    kept = []
    for char in normalize(value):
        if char in "\r\n\t" or char == "\u2028":
            kept.append(" ")
        elif ord(char) > 0xFFFF or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            kept.append(char)
    text = _SPACES.sub(" ", "".join(kept)).strip()
    if max_length is not None and len(text) > max_length:
        text = text[: max(0, max_length - 1)].rstrip() + "…"
    return text


class ContentRefused(ValueError):
    """The text must not be sent; `reason` is a stable code (stored and shown in the API)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PreparedText:
    text: str
    length: SmsLength


def prepare(text: str, policy: TextPolicy, max_segments: int | None = None) -> PreparedText:
    """Normalise, apply the policy, measure, and refuse what must never be sent."""
    normalised = normalize(text).strip()
    final = to_gsm7(normalised) if policy is TextPolicy.UNACCENTED else normalised
    if not final:
        raise ContentRefused("empty", "the message is empty")
    if contains_citizen_id(final):
        raise ContentRefused("citizen_id", "the message contains a 12-digit citizen ID number")
    length = measure(final)
    if max_segments is not None and length.segments > max_segments:
        raise ContentRefused(
            "too_long",
            f"{length.segments} {length.encoding.value} segments ({length.characters} characters), "
            f"more than the {max_segments} allowed",
        )
    return PreparedText(final, length)

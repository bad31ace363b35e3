"""Replies from citizens: a STOP keyword (Vietnamese or English, with or without diacritics) opts out."""

from __future__ import annotations

import re

from services.notifier.domain.text import strip_accents

STOP_KEYWORDS = frozenset({"STOP", "HUY", "HUY DK", "HUY DANG KY", "TU CHOI", "TC", "DUNG", "DUNG LAI", "OFF"})
_NOT_WORD = re.compile(r"[^A-Z0-9 ]+")


def is_stop(text: str) -> bool:
    """`STOP`, `stop.`, `Hủy`, `HUY DK`, `Từ chối` ... -> True; any other reply -> False."""
    words = _NOT_WORD.sub(" ", strip_accents(text).upper()).split()
    if not words:
        return False
    return any(" ".join(words[:size]) in STOP_KEYWORDS for size in (1, 2, 3)) and len(words) <= 3

"""Text that can be stored and exported: what the API refuses (control characters) and how a spreadsheet cell
is made safe from text already stored (characters XML cannot hold removed; formulas neutralised).

A task title holding a control character once made every XLSX report fail (openpyxl refuses characters XML 1.0
cannot hold), and a report text starting with `=` became a live formula in Excel (docs/tasks.md).
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import AfterValidator, BeforeValidator

_MULTILINE_ALLOWED = frozenset("\n\t")
_NONCHARACTERS = frozenset("\ufffe\uffff")
# What XML 1.0 cannot hold: C0 controls but tab, LF and CR; lone surrogates; U+FFFE and U+FFFF.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A spreadsheet treats a cell starting with one of these as a formula (or, after a tab or CR, may do so).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(,\d+)?")


def refused_character(text: str, *, multiline: bool) -> str | None:
    """The first character the API refuses in `text` (a control character, a lone surrogate, a
    noncharacter; LF and tab allowed when `multiline`), or None."""
    for char in text:
        if multiline and char in _MULTILINE_ALLOWED:
            continue
        if unicodedata.category(char) in ("Cc", "Cs") or char in _NONCHARACTERS:
            return char
    return None


def _check(text: str, *, multiline: bool) -> str:
    char = refused_character(text, multiline=multiline)
    if char is not None:
        allowed = " (line breaks and tabs are allowed)" if multiline else ""
        raise ValueError(f"holds the control character U+{ord(char):04X}, which text may not contain{allowed}")
    return text


def single_line(text: str) -> str:
    """pydantic validator of one-line text (titles, names): no control character at all."""
    return _check(text, multiline=False)


def multi_line(text: str) -> str:
    """pydantic validator of free text (summaries, notes): LF and tab allowed, no other control character."""
    return _check(text, multiline=True)


def unix_newlines(value: object) -> object:
    """pydantic before-validator: CRLF (a Windows client's line break) becomes LF."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


SingleLine = AfterValidator(single_line)
MultiLine = AfterValidator(multi_line)
UnixNewlines = BeforeValidator(unix_newlines)


def xml_safe(text: str) -> str:
    """`text` without the characters an XLSX (XML 1.0) cannot hold."""
    return _XML_ILLEGAL.sub("", text)


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula; a plain number ("-3", "-2,5") is not one."""
    return text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text)


def csv_cell(text: str) -> str:
    """A CSV field a spreadsheet shows as the text it is: XML-illegal characters removed (as in the XLSX) and
    a formula-like text prefixed with an apostrophe, the spreadsheets' mark for "this is text"."""
    cleaned = xml_safe(text)
    return "'" + cleaned if is_formula_like(cleaned) else cleaned

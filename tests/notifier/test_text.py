"""The text pipeline: NFC, accent stripping, GSM-7 / UCS-2 choice, exact segment counts, citizen IDs."""

from __future__ import annotations

import math
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifier.domain.sending import Encoding
from services.notifier.domain.text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    ContentRefused,
    TextPolicy,
    clean_value,
    contains_citizen_id,
    measure,
    normalize,
    prepare,
    strip_accents,
    to_gsm7,
)

VIETNAMESE_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
    "AÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬEÈÉẺẼẸÊỀẾỂỄỆIÌÍỈĨỊOÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢUÙÚỦŨỤƯỪỨỬỮỰYỲÝỶỸỴĐ"
)
GSM_TEXT = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=700)
VIETNAMESE_TEXT = st.text(alphabet=VIETNAMESE_LETTERS + " ,.0123456789/:-", max_size=500)


def test_sentence_loses_every_mark_when_stripped_of_accents() -> None:
    assert strip_accents("Hồ sơ của ông/bà đã được tiếp nhận") == "Ho so cua ong/ba da duoc tiep nhan"
    assert strip_accents("Đề nghị ĐỒNG CHÍ khẩn trương xử lý") == "De nghi DONG CHI khan truong xu ly"


def test_double_marked_letters_lose_both_marks_when_stripped() -> None:
    assert strip_accents("ấầẩẫậắằẳẵặếềểễệốồổỗộớờởỡợứừửữự") == "a" * 10 + "e" * 5 + "o" * 10 + "u" * 5
    assert strip_accents("ẤẦẨẪẬẮẰẲẴẶẾỀỂỄỆỐỒỔỖỘỚỜỞỠỢỨỪỬỮỰ") == "A" * 10 + "E" * 5 + "O" * 10 + "U" * 5


@given(VIETNAMESE_TEXT)
def test_stripped_vietnamese_is_plain_ascii_of_the_same_length_when_any_text_is_given(value: str) -> None:
    stripped = strip_accents(value)
    assert stripped.isascii()
    assert len(stripped) == len(normalize(value))


def test_decomposed_input_is_composed_when_normalised() -> None:
    decomposed = unicodedata.normalize("NFD", "Hồ sơ")
    assert len(decomposed) > len("Hồ sơ")
    assert normalize(decomposed) == "Hồ sơ"
    assert measure(normalize(decomposed)).characters == 5


def test_typography_has_plain_equivalents_when_converted_to_gsm7() -> None:
    assert to_gsm7("“Hồ sơ” – số 1… 中") == '"Ho so" - so 1... ?'


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, Encoding.GSM7, 160, 1),
        ("a" * 161, Encoding.GSM7, 161, 2),
        ("a" * 306, Encoding.GSM7, 306, 2),
        ("a" * 307, Encoding.GSM7, 307, 3),
        ("€" * 80, Encoding.GSM7, 160, 1),
        ("€" * 81, Encoding.GSM7, 162, 2),
        ("a" * 152 + "€" + "a" * 152, Encoding.GSM7, 306, 3),  # the escape pair is never split: 152 | 2+151 | 1
        ("a" * 152 + "€" * 77, Encoding.GSM7, 306, 3),  # 152 | 76 pairs (152) | 1 pair
        ("ệ" * 70, Encoding.UCS2, 70, 1),
        ("ệ" * 71, Encoding.UCS2, 71, 2),
        ("ệ" * 134, Encoding.UCS2, 134, 2),
        ("ệ" * 135, Encoding.UCS2, 135, 3),
        ("😀" * 35, Encoding.UCS2, 70, 1),  # outside the BMP: each is a surrogate pair, two UTF-16 units
        ("😀" * 36, Encoding.UCS2, 72, 2),
        ("ệ" * 66 + "😀" + "ệ" * 66, Encoding.UCS2, 134, 3),  # the pair is never split: 66 | 2+65 | 1
        ("é" * 160, Encoding.GSM7, 160, 1),  # é is in the GSM-7 alphabet
        ("", Encoding.GSM7, 0, 0),
    ],
)
def test_segments_are_counted_exactly_when_a_text_is_measured(
    text: str, encoding: Encoding, units: int, segments: int
) -> None:
    length = measure(text)
    assert (length.encoding, length.units, length.segments) == (encoding, units, segments)


@given(GSM_TEXT)
def test_gsm7_segments_fit_the_limits_when_any_gsm_text_is_measured(value: str) -> None:
    length = measure(value)
    septets = sum(2 if char in GSM7_EXTENSION else 1 for char in value)
    assert length.encoding is Encoding.GSM7
    assert length.units == septets
    if septets <= 160:
        assert length.segments == (1 if septets else 0)
    else:
        assert math.ceil(septets / 153) <= length.segments <= math.ceil(septets / 152)


@given(VIETNAMESE_TEXT.filter(lambda value: any(ord(char) > 0x7F and char not in GSM7_BASIC for char in value)))
def test_vietnamese_with_marks_is_ucs2_when_diacritics_are_kept(value: str) -> None:
    length = measure(normalize(value))
    assert length.encoding is Encoding.UCS2
    expected = 1 if length.units <= 70 else math.ceil(length.units / 67)
    assert length.segments == expected


@given(VIETNAMESE_TEXT.filter(lambda value: value.strip() != "" and not contains_citizen_id(value)))
def test_unaccented_policy_always_gives_gsm7_when_any_vietnamese_text_is_prepared(value: str) -> None:
    prepared = prepare(value, TextPolicy.UNACCENTED)
    assert prepared.length.encoding is Encoding.GSM7
    assert prepared.text == strip_accents(value.strip())


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Số CCCD 001203004567 sai", True),
        ("CCCD: 001 203 004 567", True),
        ("CCCD:001203004567.", True),
        ("Mã hồ sơ 000.00.12.H07-260302-0001", False),
        ("Gọi 0912345678", False),
        ("Số 0012030045678 có 13 chữ số", False),
        ("Phí 1.250.000 đồng", False),
    ],
)
def test_citizen_id_is_found_when_twelve_digits_stand_alone(text: str, found: bool) -> None:
    assert contains_citizen_id(text) is found


def test_message_is_refused_when_it_contains_a_citizen_id() -> None:
    with pytest.raises(ContentRefused) as refused:
        prepare("Hồ sơ của ông/bà (CCCD 001203004567) đã được tiếp nhận", TextPolicy.KEEP_DIACRITICS)
    assert refused.value.reason == "citizen_id"


def test_message_is_refused_when_it_needs_more_segments_than_allowed() -> None:
    with pytest.raises(ContentRefused) as refused:
        prepare("ệ" * 141, TextPolicy.KEEP_DIACRITICS, max_segments=2)
    assert refused.value.reason == "too_long"
    assert "3 UCS-2 segments" in refused.value.detail


def test_value_is_cleaned_and_cut_with_an_ellipsis_when_it_is_too_long() -> None:
    assert clean_value("  Thiếu\tbản sao\n giấy khai sinh 😀 ", 12) == "Thiếu bản s…"
    assert clean_value("Thiếu\u200bbản sao") == "Thiếubản sao"

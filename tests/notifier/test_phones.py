"""Vietnamese phone numbers: the 2018 prefix conversion, E.164, masking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifier.adapters.phones import to_e164
from services.notifier.domain.phones import LEGACY_PREFIXES, mask, modernize


@pytest.mark.parametrize(
    ("legacy", "current"),
    [
        ("0162", "032"),
        ("0169", "039"),
        ("0120", "070"),
        ("0121", "079"),
        ("0122", "077"),
        ("0126", "076"),
        ("0128", "078"),
        ("0123", "083"),
        ("0124", "084"),
        ("0125", "085"),
        ("0127", "081"),
        ("0129", "082"),
        ("0186", "056"),
        ("0188", "058"),
        ("0199", "059"),
    ],
)
def test_legacy_prefix_is_replaced_when_an_eleven_digit_number_is_given(legacy: str, current: str) -> None:
    assert modernize(f"{legacy}3456789") == f"{current}3456789"
    assert to_e164(f"{legacy} 345 6789") == f"+84{current[1:]}3456789"


@given(st.sampled_from(sorted(LEGACY_PREFIXES)), st.text(alphabet="0123456789", min_size=7, max_size=7))
def test_every_converted_legacy_number_is_a_valid_mobile_when_written_any_way(prefix: str, rest: str) -> None:
    expected = f"+84{LEGACY_PREFIXES[prefix][1:]}{rest}"
    for written in (
        f"{prefix}{rest}",
        f"+84{prefix[1:]}{rest}",
        f"84{prefix[1:]}{rest}",
        f"{prefix}.{rest[:3]}.{rest[3:]}",
    ):
        assert to_e164(written) == expected


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0912345678", "+84912345678"),
        ("091 234 5678", "+84912345678"),
        ("+84 91 234 5678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("(+84) 912-345-678", "+84912345678"),
        ("0321234567", "+84321234567"),
    ],
)
def test_number_is_normalised_to_e164_when_it_is_a_vietnamese_mobile(raw: str, e164: str) -> None:
    assert to_e164(raw) == e164


@pytest.mark.parametrize(
    "raw", ["", "   ", "0123", "091234567", "02413456789", "+12025550143", "không có", "09123456789"]
)
def test_number_is_refused_when_it_is_not_a_vietnamese_mobile(raw: str) -> None:
    assert to_e164(raw) is None


def test_only_two_first_and_two_last_digits_are_shown_when_a_number_is_masked() -> None:
    assert mask("+84912345678") == "09******78"
    assert mask("+84323456789") == "03******89"
    assert mask(None) is None


def test_no_digit_is_shown_when_a_number_has_four_digits_or_fewer() -> None:
    assert (mask("+84123"), mask("+841"), mask("+8412345")) == ("****", "**", "01**45")

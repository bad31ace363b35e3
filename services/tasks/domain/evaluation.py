"""Indicator values: what a reported value must look like, and met / not met / no data against a target."""

from __future__ import annotations

import math
from enum import StrEnum

from services.tasks.domain.plan import Comparator, Target, ValueKind

# Values are compared after rounding: 0.95 * 100 from a ratio is 95.00000000000001, and must meet "≥ 95".
_DIGITS = 6


class IndicatorStatus(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NO_DATA = "no_data"
    NO_TARGET = "no_target"


def evaluate(target: Target | None, value: float | None) -> IndicatorStatus:
    """`=` (a plain figure such as "100" or "10 sáng kiến") is the level to reach: reaching or passing it is met."""
    if value is None:
        return IndicatorStatus.NO_DATA
    if target is None or target.comparator is Comparator.NONE or target.value is None:
        return IndicatorStatus.NO_TARGET
    have, want = round(value, _DIGITS), round(target.value, _DIGITS)
    if target.comparator is Comparator.TOP:
        met = have <= want
    elif target.comparator is Comparator.ABOVE:
        met = have > want
    else:
        met = have >= want
    return IndicatorStatus.MET if met else IndicatorStatus.NOT_MET


def value_problem(kind: ValueKind, value: float) -> str | None:
    """Why `value` cannot be a reading of an indicator of this kind, or None."""
    if not math.isfinite(value):
        return "the value must be a finite number"
    if kind is ValueKind.PERCENT and not 0 <= value <= 100:
        return f"a percentage is between 0 and 100, got {value:g}"
    if kind is ValueKind.COUNT and (value < 0 or not value.is_integer()):
        return f"this indicator counts items: a whole number of 0 or more is expected, got {value:g}"
    if kind is ValueKind.RANK and (value < 1 or not value.is_integer()):
        return f"this indicator is a rank: a whole number of 1 or more is expected, got {value:g}"
    return None


def from_ratio(kind: ValueKind, ratio: float | None) -> float | None:
    """A live ratio (0..1 from the indicators service) in the plan's unit."""
    if ratio is None:
        return None
    return round(ratio * 100, _DIGITS) if kind is ValueKind.PERCENT else ratio

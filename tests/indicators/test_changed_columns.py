"""Narrow updates write exactly the columns that changed, and the rows read back equal the folded states."""

from __future__ import annotations

from datetime import UTC, datetime

from services.indicators.adapters.changed_columns import changed_columns


def test_changed_columns_lists_only_differing_values_when_most_are_the_same_objects() -> None:
    accepted = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    before = ("D-1", "accepted", accepted, None, 0.0, 3)
    after = ("D-1", "paused", datetime(2026, 3, 2, 1, 0, tzinfo=UTC), accepted, 0.0, 4)

    assert changed_columns(before, after) == (1, 3, 5)


def test_changed_columns_is_empty_when_nothing_changed() -> None:
    row = ("D-1", "accepted", None, 1.5)

    assert changed_columns(row, tuple(row)) == ()

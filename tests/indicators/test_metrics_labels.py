"""The `field` label stays bounded whatever the catalogue publishes."""

from __future__ import annotations

from services.indicators.adapters.field_label import FieldLabelGuard


def test_field_label_is_other_when_the_text_is_too_long_or_not_printable_or_past_the_limit() -> None:
    guard = FieldLabelGuard(limit=2)
    assert guard.field("Hộ  tịch\n") == "Hộ tịch"
    assert guard.field(None) == "unknown"
    assert guard.field("x" * 101) == "other"
    assert guard.field("Đất\x00đai") == "other"
    assert guard.field("Đất đai") == "Đất đai"
    assert guard.field("Chứng thực") == "other"
    assert guard.field("Hộ tịch") == "Hộ tịch"

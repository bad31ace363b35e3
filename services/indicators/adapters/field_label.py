"""The `field` label (lĩnh vực of the procedure catalogue) of the per-agency dossier metrics, kept bounded.

A field is Vietnamese text chosen by whoever publishes the catalogue, so it is checked before it becomes a
label value: printable, at most `MAX_FIELD_CHARS` characters, and at most `limit` distinct values per process
(a province's catalogue has a few dozen fields); anything else is `other`. A dossier whose procedure is not in
the catalogue is counted under `unknown`.
"""

from __future__ import annotations

UNKNOWN_FIELD = "unknown"
OTHER_FIELD = "other"
MAX_FIELD_CHARS = 100
DEFAULT_MAX_FIELDS = 80


class FieldLabelGuard:
    def __init__(self, limit: int = DEFAULT_MAX_FIELDS) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def field(self, value: str | None) -> str:
        if value is None:
            return UNKNOWN_FIELD
        text = " ".join(value.split())
        if not text or len(text) > MAX_FIELD_CHARS or not text.isprintable():
            return OTHER_FIELD
        if text not in self.seen and len(self.seen) >= self.limit:
            return OTHER_FIELD
        self.seen.add(text)
        return text

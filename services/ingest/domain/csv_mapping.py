"""CSV rows -> CloudEvents (`dvc-pulse import file.csv`; the mapping is documented in docs/events.md).

Columns named after a CloudEvents attribute (`id`, `source`, `type`, `time`, `subject`, ...) fill the envelope;
every other column is a `data` field, dots for nesting (`applicant.name`; a `data.` prefix is allowed). Empty
cells are left out, so one wide CSV can hold several event types. `type` may be short (`dossier.accepted`);
`specversion` defaults to 1.0 and `subject` to the dossier, procedure or document code. Cells stay text:
validation converts `true`/`false`, numbers and dates exactly as it does for JSON strings in lax mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.contracts.events import EVENT_TYPE_PREFIX, EventType

ENVELOPE_ATTRIBUTES = frozenset(
    {"specversion", "id", "source", "type", "time", "subject", "datacontenttype", "dataschema"}
)
SUBJECT_FIELDS = ("dossier_code", "procedure_code", "document_id")
_SHORT_TYPES = frozenset(event_type.short_name for event_type in EventType)


class CsvRowError(ValueError):
    """The row cannot be mapped (more cells than columns, a column both a value and a group, bad bytes)."""


def check_header(header: Sequence[str]) -> list[str]:
    """Column names, stripped; refuses empty or repeated names."""
    names = [name.strip() for name in header]
    if any(not name for name in names):
        raise CsvRowError("the header has an empty column name")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CsvRowError(f"repeated column(s) in the header: {', '.join(repeated)}")
    return names


def row_to_event(header: Sequence[str], cells: Sequence[str]) -> dict[str, Any]:
    if len(cells) > len(header):
        raise CsvRowError(f"{len(cells)} cells for {len(header)} columns")
    event: dict[str, Any] = {"specversion": "1.0"}
    data: dict[str, Any] = {}
    for column, value in zip(header, cells, strict=False):
        if not value.strip():
            continue
        if any("\udc80" <= char <= "\udcff" for char in value):
            raise CsvRowError(f"column {column}: not UTF-8 text")
        if column in ENVELOPE_ATTRIBUTES:
            event[column] = value
        else:
            _set_path(data, column.removeprefix("data.").split("."), value, column)
    kind = event.get("type")
    if isinstance(kind, str) and kind in _SHORT_TYPES:
        event["type"] = EVENT_TYPE_PREFIX + kind
    if "subject" not in event:
        subject = next((data[name] for name in SUBJECT_FIELDS if isinstance(data.get(name), str)), None)
        if subject is not None:
            event["subject"] = subject
    event["data"] = data
    return event


def _set_path(target: dict[str, Any], path: Sequence[str], value: str, column: str) -> None:
    node = target
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise CsvRowError(f"column {column}: {part} is both a value and a group")
        node = child
    if isinstance(node.get(path[-1]), dict):
        raise CsvRowError(f"column {column}: {path[-1]} is both a value and a group")
    node[path[-1]] = value

"""Hypothesis strategies near the event contract: any JSON value, and valid events with fields replaced by any
JSON value or removed."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from tests.factories import _DATA, dossier_event, procedure_published

DELETE = object()
ODD_TEXT = [
    "",
    " ",
    "\x00",
    "\u202e",
    "\ud7ff",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2026-02-30T00:00:00Z",
    "2026-03-02T08:15:00",
    "=HYPERLINK(1)",
    "x" * 3000,
]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(ODD_TEXT)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
VALID_EVENTS = [dossier_event(short_type) for short_type in _DATA] + [procedure_published()]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    return found


def mutated(event: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(event)
    target = mutated
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return mutated


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with one to three fields replaced by any JSON value (or removed)."""
    event = draw(st.sampled_from(VALID_EVENTS))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(event)))
        event = mutated(event, path, draw(st.just(DELETE) | json_values))
    return event

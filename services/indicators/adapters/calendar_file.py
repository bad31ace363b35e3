"""Read the commune's calendar override file (YAML) into the domain's `CalendarOverrides`."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.indicators.domain.calendar import CalendarOverrides

DEFAULT_OVERRIDES = Path(__file__).resolve().parent / "calendar" / "overrides-vn.yaml"


class CalendarFileError(Exception):
    """The override file is missing or malformed; the message names the file and the problem."""


def load_overrides(path: Path | None = None) -> CalendarOverrides:
    """Load and validate the override file (the packaged `calendar/overrides-vn.yaml` by default)."""
    file = path or DEFAULT_OVERRIDES
    try:
        content = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise CalendarFileError(f"calendar overrides {file}: {error}") from error
    try:
        return CalendarOverrides.model_validate(content or {})
    except ValueError as error:
        raise CalendarFileError(f"calendar overrides {file}: {error}") from error

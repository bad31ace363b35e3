"""The staff directory: officer code or unit code -> work phone (YAML or CSV), re-read when the file changes.

YAML: `officers: {CB-001: "0912 345 678"}` and `units: {UBND-LAMTHAO: "0987 654 321"}` (or one flat
mapping). CSV: a header with `code` and `phone` columns. An officer's own number wins over the unit's.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from services.notifier.domain.templates import ConfigError

logger = logging.getLogger("dvc_pulse.notifier")


@dataclass(frozen=True)
class StaffPhone:
    code: str  # the officer or unit code it was found under (pseudonymous)
    phone: str  # as written in the file (validated when used)


def _parse_yaml(text: str, origin: str) -> dict[str, str]:
    loaded: Any = yaml.safe_load(text) or {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{origin}: expected a mapping of code -> phone")
    sections = [loaded.get("officers") or {}, loaded.get("units") or {}]
    if "officers" not in loaded and "units" not in loaded:
        sections = [loaded]
    entries: dict[str, str] = {}
    for section in sections:
        if not isinstance(section, dict):
            raise ConfigError(f"{origin}: `officers` and `units` must be mappings of code -> phone")
        for code, phone in section.items():
            entries.setdefault(str(code).strip(), str(phone).strip())
    return entries


def _parse_csv(text: str, origin: str) -> dict[str, str]:
    reader = csv.DictReader(io.StringIO(text))
    fields = [name.strip().lower() for name in reader.fieldnames or []]
    if "code" not in fields or "phone" not in fields:
        raise ConfigError(f"{origin}: the CSV header needs `code` and `phone` columns")
    entries: dict[str, str] = {}
    for row in reader:
        normalised = {key.strip().lower(): (value or "").strip() for key, value in row.items() if key}
        if normalised.get("code") and normalised.get("phone"):
            entries.setdefault(normalised["code"], normalised["phone"])
    return entries


def parse_directory(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ConfigError(f"{path}: staff directory cannot be read ({error.strerror})") from None
    if path.suffix.lower() == ".csv":
        return _parse_csv(text, str(path))
    try:
        return _parse_yaml(text, str(path))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None


@dataclass
class StaffDirectory:
    path: Path | None
    entries: dict[str, str] = field(default_factory=dict)
    _mtime: float | None = None

    @classmethod
    def load(cls, path: Path | None) -> StaffDirectory:
        directory = cls(path)
        if path is not None:
            directory.entries = parse_directory(path)
            directory._mtime = path.stat().st_mtime
        return directory

    def refresh(self) -> None:
        """Re-read the file if it changed; a broken edit keeps the previous entries (and says so)."""
        if self.path is None:
            return
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return
        if mtime == self._mtime:
            return
        try:
            self.entries = parse_directory(self.path)
        except ConfigError as error:
            logger.warning("staff directory not reloaded: %s", error)
        self._mtime = mtime

    def lookup(self, *codes: str | None) -> StaffPhone | None:
        for code in codes:
            if code and code in self.entries:
                return StaffPhone(code, self.entries[code])
        return None

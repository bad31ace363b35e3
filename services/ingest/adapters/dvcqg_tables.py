"""The mapping tables file (JSON, docs/integration-dvcqg.md), re-read when it changes."""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import ValidationError

from services.ingest.domain.dvcqg_tables import MappingTables

logger = logging.getLogger("dvc_pulse.ingest.dvcqg")


class MappingFileError(Exception):
    """The file exists but is not valid: refused whole, the previous tables stay in force."""


class MappingFile:
    """An invalid file is logged and ignored (the tables in force stay). `path` None or missing: the default
    tables (no agency known, so every record is refused with code 4 until the file names the centre's agencies
    or a default)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._tables = MappingTables()

    def tables(self) -> MappingTables:
        if self.path is None or not self.path.exists():
            return self._tables
        info = self.path.stat()
        stamp = (info.st_mtime_ns, info.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._tables = read_tables(self.path)
            except MappingFileError as error:
                logger.error("the portal mapping tables were not reloaded (the previous stay in force): %s", error)
        return self._tables


def read_tables(path: Path) -> MappingTables:
    try:
        return MappingTables.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as error:
        raise MappingFileError(f"{path}: {error}") from None

"""Import checkpoints under `var/import-checkpoints/`: how far a file is in, and a hash of that prefix."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from pydantic import ValidationError

from services.ingest.domain.checkpoints import Checkpoint


class CheckpointStore:
    """Implements services.ingest.service_layer.ports.CheckpointStore with one JSON file per imported file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def location(self, source: Path) -> Path:
        resolved = str(source.resolve())
        digest = hashlib.sha256(resolved.encode()).hexdigest()[:16]
        return self.directory / f"{source.name}.{digest}.json"

    def load(self, source: Path) -> Checkpoint | None:
        try:
            return Checkpoint.model_validate_json(self.location(source).read_bytes())
        except (FileNotFoundError, ValidationError):
            return None

    def save(self, source: Path, checkpoint: Checkpoint) -> None:
        target = self.location(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".checkpoint-", dir=target.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(checkpoint.model_dump_json())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def clear(self, source: Path) -> None:
        self.location(source).unlink(missing_ok=True)

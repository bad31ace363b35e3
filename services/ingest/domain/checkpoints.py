"""How far an import is in a file: what the use case resumes from and the checkpoint store keeps."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel


class Checkpoint(BaseModel):
    """Everything before byte `offset` (line `line`) was acknowledged by JetStream or rejected."""

    path: str
    offset: int = 0
    line: int = 0
    prefix_sha256: str = hashlib.sha256().hexdigest()
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0

"""`dvc-pulse import FILE`: validate every line like the HTTP ingest, publish in pipelined batches, resume.

The checkpoint moves only after JetStream acknowledged a batch, so a stopped import resumes where it was and
re-sends at most one batch (JetStream drops those as duplicates). Bad lines are counted with their line number
and reason; they never stop the import.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from services.ingest.domain.checkpoints import Checkpoint
from services.ingest.domain.publishing import Ack, TooLarge, Unavailable
from services.ingest.domain.records import (
    Format,
    LineMapper,
    LineSource,
    Record,
    csv_header,
    csv_records,
    dvcqg_records,
    ndjson_records,
)
from services.ingest.domain.time_rules import TimeRules, TimeWindow
from services.ingest.service_layer.ports import CheckpointStore, EventPublisher

MAX_KEPT_ERRORS = 1000


class ImportAborted(Exception):
    """JetStream stayed unavailable; everything acknowledged so far is checkpointed."""


@dataclass(frozen=True)
class LineError:
    line: int
    field: str
    reason: str


@dataclass
class ImportReport:
    path: Path
    resumed_from_line: int = 0
    file_changed: bool = False
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[LineError] = field(default_factory=list)
    bytes_done: int = 0
    total_bytes: int = 0
    complete: bool = False

    @property
    def errors_not_kept(self) -> int:
        return self.rejected - len(self.errors)

    def reject(self, record: Record) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.extend(LineError(record.line, name, reason) for name, reason in record.errors[:5])


ProgressCallback = Callable[[ImportReport], None]


@dataclass
class Importer:
    publisher: EventPublisher
    checkpoints: CheckpointStore
    batch_size: int = 500
    publish_attempts: int = 5
    on_progress: ProgressCallback = field(default=lambda _report: None)
    time_rules: TimeRules = field(default_factory=TimeRules)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    portal_lines: LineMapper | None = None  # --format dvcqg: maps a line of portal payloads

    def _window(self) -> TimeWindow:
        return self.time_rules.window(self.clock())

    async def run(self, path: Path, file_format: Format, restart: bool = False) -> ImportReport:
        with path.open("rb") as file:
            source, checkpoint, report = self._resume(path, file, restart)
            if file_format is Format.CSV:
                header = _header_before(file, checkpoint.offset, path) if checkpoint.offset > 0 else None
                records = csv_records(source, header, self._window)
            elif file_format is Format.DVCQG:
                if self.portal_lines is None:
                    raise ImportAborted("--format dvcqg needs the portal mapping (a source and the tables)")
                records = dvcqg_records(source, self.portal_lines)
            else:
                records = ndjson_records(source, self._window)
            await self._import(records, source, checkpoint, path, report)
        report.complete = True
        return report

    def _resume(self, path: Path, file: BinaryIO, restart: bool) -> tuple[LineSource, Checkpoint, ImportReport]:
        """Where to start: after the checkpoint if the file still begins with what it covered, else at 0."""
        report = ImportReport(path, total_bytes=path.stat().st_size)
        checkpoint = None if restart else self.checkpoints.load(path)
        hasher = hashlib.sha256()
        if checkpoint is not None and checkpoint.offset > 0 and not _same_prefix(file, checkpoint, hasher):
            report.file_changed = True
            checkpoint = None
            hasher = hashlib.sha256()
            file.seek(0)
        checkpoint = checkpoint or Checkpoint(path=str(path.resolve()))
        report.resumed_from_line = checkpoint.line
        report.bytes_done = checkpoint.offset
        return LineSource(file, checkpoint.offset, checkpoint.line, hasher), checkpoint, report

    async def _import(
        self, records: Iterator[Record], source: LineSource, checkpoint: Checkpoint, path: Path, report: ImportReport
    ) -> None:
        batch: list[Record] = []
        since_checkpoint = 0
        for record in records:
            since_checkpoint += 1
            if record.event is not None:
                batch.append(record)
            else:
                report.reject(record)
                checkpoint.rejected += 1
            if since_checkpoint >= self.batch_size and record.ends_line:  # the checkpoint covers whole lines
                await self._commit(batch, source, checkpoint, path, report)
                batch, since_checkpoint = [], 0
        await self._commit(batch, source, checkpoint, path, report)

    async def _commit(
        self,
        batch: Sequence[Record],
        source: LineSource,
        checkpoint: Checkpoint,
        path: Path,
        report: ImportReport,
    ) -> None:
        """Publish the batch, then move the checkpoint past it (and past the rejected lines before it)."""
        acks = await self._publish_fitting(batch, checkpoint, report) if batch else []
        duplicates = sum(1 for ack in acks if ack.duplicate)
        report.accepted += len(acks) - duplicates
        report.duplicates += duplicates
        checkpoint.accepted += len(acks) - duplicates
        checkpoint.duplicates += duplicates
        checkpoint.offset, checkpoint.line = source.offset, source.line
        checkpoint.prefix_sha256 = source.hasher.hexdigest()
        self.checkpoints.save(path, checkpoint)
        report.bytes_done = source.offset
        self.on_progress(report)

    async def _publish_fitting(
        self, batch: Sequence[Record], checkpoint: Checkpoint, report: ImportReport
    ) -> list[Ack]:
        """Publish the batch; events larger than the server takes are rejected lines, the others published."""
        try:
            return await self._publish(batch, checkpoint.line)
        except TooLarge as error:
            for index, size in sorted(error.sizes.items()):
                reason = f"{size} bytes as stored; an event may be at most {error.limit} (NATS max_payload)"
                report.reject(replace(batch[index], event=None, errors=(("(event)", reason),)))
                checkpoint.rejected += 1
            fitting = [record for index, record in enumerate(batch) if index not in error.sizes]
            return await self._publish(fitting, checkpoint.line) if fitting else []

    async def _publish(self, batch: Sequence[Record], resume_line: int) -> list[Ack]:
        events = [record.event for record in batch if record.event is not None]
        error: Unavailable | None = None
        for attempt in range(self.publish_attempts):
            try:
                return await self.publisher.publish(events)
            except Unavailable as failure:
                error = failure
                if attempt + 1 < self.publish_attempts:
                    await asyncio.sleep(min(2.0**attempt, 10.0))
        raise ImportAborted(f"{error}; rerun the same command to resume after line {resume_line}")


def _same_prefix(file: BinaryIO, checkpoint: Checkpoint, hasher: hashlib._Hash) -> bool:
    """Hash the first `offset` bytes (leaving the file there): is it still the file the checkpoint describes?"""
    remaining = checkpoint.offset
    while remaining > 0:
        chunk = file.read(min(remaining, 1 << 20))
        if not chunk:
            return False
        hasher.update(chunk)
        remaining -= len(chunk)
    return hasher.hexdigest() == checkpoint.prefix_sha256


def _header_before(file: BinaryIO, offset: int, path: Path) -> list[str]:
    """The CSV header at the file's start, leaving the file at `offset` (where the resumed import reads on)."""
    file.seek(0)
    try:
        return csv_header(file, str(path))
    finally:
        file.seek(offset)

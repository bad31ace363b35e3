"""The records of an import file (NDJSON, CSV or portal payloads), read line by line from the lines the use case
hands over, knowing the byte offset and line after each one. No file is opened here."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from services.contracts.events import CloudEvent
from services.ingest.domain.csv_mapping import CsvRowError, check_header, row_to_event
from services.ingest.domain.time_rules import TimeWindow
from services.ingest.domain.validation import Mode, Reason, Rejected, check_times, mapping_event, structured_event

WindowNow = Callable[[], TimeWindow]
# One line of portal payloads -> each derived event, or a refused record's (field, reason) pairs
LineMapper = Callable[[bytes], Sequence[tuple[CloudEvent | None, tuple[tuple[str, str], ...]]]]


class Format(StrEnum):
    NDJSON = "ndjson"
    CSV = "csv"
    DVCQG = "dvcqg"


class UnreadableFile(Exception):
    """The file as a whole cannot be imported (e.g. a CSV without a usable header)."""


def detect_format(path: Path, requested: str = "auto") -> Format:
    if requested != "auto":
        return Format(requested)
    return Format.CSV if path.suffix.lower() == ".csv" else Format.NDJSON


@dataclass(frozen=True)
class Record:
    """One record: its first line, the offset just after it, and the event or why it was rejected."""

    line: int
    end_offset: int
    event: CloudEvent | None
    errors: tuple[tuple[str, str], ...] = ()
    ends_line: bool = True  # False for all but the last of the records one line gives (a checkpoint waits)


class LineSource:
    """Binary lines from `offset` on, counting lines and hashing every byte read (the checkpoint's prefix hash)."""

    def __init__(self, lines: Iterable[bytes], offset: int, line: int, hasher: hashlib._Hash) -> None:
        self.lines = lines
        self.offset = offset
        self.line = line
        self.hasher = hasher

    def __iter__(self) -> Iterator[bytes]:
        for raw in self.lines:
            self.offset += len(raw)
            self.line += 1
            self.hasher.update(raw)
            yield raw


def _errors(rejection: Rejected) -> tuple[tuple[str, str], ...]:
    if rejection.errors:
        return tuple((error.field, error.reason) for error in rejection.errors)
    detail = rejection.detail.replace("the body is", "the line is")
    if rejection.reason is Reason.BROKEN_JSON:
        detail = detail.replace(" at line 1 column ", " at column ")
    return (("(line)", detail),)


def _checked(event: CloudEvent, window: WindowNow) -> CloudEvent:
    check_times([event], window(), Mode.STRUCTURED)
    return event


def ndjson_records(source: LineSource, window: WindowNow) -> Iterator[Record]:
    """`window()`: the time rules at the clock's current reading."""
    for raw in source:
        if not raw.strip():
            continue
        try:
            yield Record(source.line, source.offset, _checked(structured_event(raw), window))
        except Rejected as rejection:
            yield Record(source.line, source.offset, None, _errors(rejection))


def dvcqg_records(source: LineSource, map_line: LineMapper) -> Iterator[Record]:
    """Lines of national-portal payloads (docs/integration-dvcqg.md): one record per derived event or refusal."""
    for raw in source:
        if not raw.strip():
            continue
        derived = map_line(raw)
        for index, (event, errors) in enumerate(derived):
            yield Record(source.line, source.offset, event, errors, ends_line=index == len(derived) - 1)


def csv_header(lines: Iterable[bytes], where: str) -> list[str]:
    """The checked header at the start of `lines` (the file's first lines); `where` names the file in errors."""
    try:
        return check_header(next(csv.reader(raw.decode("utf-8-sig") for raw in lines)))
    except StopIteration:
        raise UnreadableFile(f"{where}: empty CSV file") from None
    except (CsvRowError, csv.Error, UnicodeDecodeError) as error:
        raise UnreadableFile(f"{where}: unusable CSV header: {error}") from None


def csv_records(source: LineSource, header: list[str] | None, window: WindowNow) -> Iterator[Record]:
    """`header` None: the first record is the header (reading from the start of the file); `window()`: the time
    rules at the clock's current reading."""
    first = source.offset == 0

    def text_lines() -> Iterator[str]:
        nonlocal first
        for raw in source:
            text = raw.decode("utf-8-sig" if first else "utf-8", "surrogateescape")
            first = False
            yield text

    reader = csv.reader(text_lines())
    while True:
        start_line = source.line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Record(start_line, source.offset, None, (("(row)", f"malformed CSV: {error}"),))
            continue
        if header is None:
            try:
                header = check_header(cells)
            except CsvRowError as error:
                raise UnreadableFile(f"unusable CSV header: {error}") from None
            continue
        if not any(cell.strip() for cell in cells):
            continue
        yield _csv_record(header, cells, start_line, source.offset, window)


def _csv_record(header: list[str], cells: list[str], line: int, end_offset: int, window: WindowNow) -> Record:
    try:
        raw = row_to_event(header, cells)
    except CsvRowError as error:
        return Record(line, end_offset, None, (("(row)", str(error)),))
    try:
        return Record(line, end_offset, _checked(mapping_event(raw), window))
    except Rejected as rejection:
        return Record(line, end_offset, None, _errors(rejection))

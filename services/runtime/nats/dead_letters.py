"""Dead letters in DVC_DLQ: read them, and redrive them to where they came from (`dvc-pulse dlq`).

Every consumer applies a message exactly once by recording its identity in the transaction of the change,
so re-publishing the original bytes to the original subject is safe for all of them: those that applied it
skip it, the one that gave up applies it now. A redrive carries a new `Nats-Msg-Id` (the original may still
sit in the stream's duplicate window) and the original id in `Dvc-Redriven-From`; the DLQ record is
deleted only after JetStream acknowledged the republish, so an interrupted run can simply be run again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError

from services.contracts.streams import DLQ
from services.contracts.subjects import DLQ_PREFIX, dlq_subject
from services.runtime.nats.publishing import OutgoingMessage, PublishFailed, publish_all

ORIGINAL_SUBJECT = "Dvc-Original-Subject"
ORIGINAL_STREAM = "Dvc-Original-Stream"
ORIGINAL_SEQUENCE = "Dvc-Original-Sequence"
ORIGINAL_MSG_ID = "Dvc-Original-Msg-Id"
CONSUMER = "Dvc-Consumer"
ERROR = "Dvc-Error"
ERROR_TYPE = "Dvc-Error-Type"
REDRIVEN_FROM = "Dvc-Redriven-From"
_BOOKKEEPING = {ORIGINAL_SUBJECT, ORIGINAL_STREAM, ORIGINAL_SEQUENCE, ORIGINAL_MSG_ID, CONSUMER, ERROR, ERROR_TYPE}
_INPUT_VALUE = re.compile(r"input_value=.*?(, input_type=|$)", re.MULTILINE)
_NOISE = re.compile(r" for tagged-union\[[^\]]*\]|For further information visit \S+")
PUBLISH_BATCH = 256


@dataclass(frozen=True)
class DeadLetter:
    sequence: int
    service: str
    stored_at: datetime | None
    headers: dict[str, str]
    payload: bytes

    @classmethod
    def from_raw(cls, raw: RawStreamMsg) -> DeadLetter:
        subject = raw.subject or ""
        return cls(
            sequence=raw.seq or 0,
            service=subject.removeprefix(f"{DLQ_PREFIX}."),
            stored_at=raw.time,
            headers={str(name): str(value) for name, value in (raw.headers or {}).items()},
            payload=raw.data or b"",
        )

    @property
    def consumer(self) -> str:
        return self.headers.get(CONSUMER, "")

    @property
    def original_subject(self) -> str:
        return self.headers.get(ORIGINAL_SUBJECT, "")

    @property
    def original_stream(self) -> str:
        return self.headers.get(ORIGINAL_STREAM, "")

    @property
    def original_sequence(self) -> int:
        text = self.headers.get(ORIGINAL_SEQUENCE, "")
        return int(text) if text.isdigit() else 0

    @property
    def error(self) -> str:
        return self.headers.get(ERROR, "")

    @property
    def error_type(self) -> str:
        """The exception's class name (`OverflowError`, `ValidationError`, ...); empty in older records."""
        return self.headers.get(ERROR_TYPE, "")

    def error_summary(self, width: int = 160) -> str:
        """One line, without the `input_value=...` parts of validation errors (they may hold personal data)
        nor pydantic's model lists and links."""
        text = _NOISE.sub("", _INPUT_VALUE.sub(r"input_value=<hidden>\1", self.error))
        text = " ".join(text.split())
        return text if len(text) <= width else text[: width - 1] + "…"


async def count_dead_letters(js: JetStreamContext, service: str | None = None) -> int:
    subject = dlq_subject(service) if service else f"{DLQ_PREFIX}.>"
    info = await js.stream_info(DLQ.name, subjects_filter=subject)
    return sum((info.state.subjects or {}).values())


async def read_dead_letters(
    js: JetStreamContext, service: str | None = None, limit: int | None = None
) -> list[DeadLetter]:
    """Dead letters oldest first (of one service, or all), at most `limit`."""
    subject = dlq_subject(service) if service else f"{DLQ_PREFIX}.>"
    found: list[DeadLetter] = []
    position = 1
    while limit is None or len(found) < limit:
        try:
            raw = await js.get_msg(DLQ.name, seq=position, subject=subject, next=True)
        except NotFoundError:
            break
        found.append(DeadLetter.from_raw(raw))
        position = (raw.seq or position) + 1
    return found


async def read_dead_letter(js: JetStreamContext, sequence: int) -> DeadLetter | None:
    try:
        raw = await js.get_msg(DLQ.name, seq=sequence)
    except NotFoundError:
        return None
    if not (raw.subject or "").startswith(f"{DLQ_PREFIX}."):
        return None
    return DeadLetter.from_raw(raw)


@dataclass(frozen=True)
class Redrive:
    """One republish; several DLQ records when several consumers gave up on the same original."""

    dead_letters: tuple[int, ...]
    stream: str
    message: OutgoingMessage


@dataclass
class RedriveReport:
    selected: int = 0
    planned: list[Redrive] = field(default_factory=list)
    published: int = 0  # new copies stored in the original stream
    already_published: int = 0  # an interrupted earlier run had stored it (same Nats-Msg-Id)
    removed: int = 0  # DLQ records deleted after the acknowledgement
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (DLQ sequence, why), kept in DVC_DLQ
    failed: list[tuple[int, str]] = field(default_factory=list)  # (DLQ sequence, why), kept in DVC_DLQ


def _why_not(letter: DeadLetter) -> str | None:
    if not letter.original_subject or not letter.original_stream or not letter.original_sequence:
        return "no original subject, stream or sequence in its headers"
    if letter.original_stream == DLQ.name or letter.original_subject.startswith(f"{DLQ_PREFIX}."):
        return "its original is itself in DVC_DLQ"
    return None


async def _original_headers(js: JetStreamContext, letter: DeadLetter) -> tuple[dict[str, str], str]:
    """Headers to carry and the original message id; records made before `Dvc-Original-Msg-Id` existed are
    completed from the original stream when it still holds the same bytes."""
    carried = {k: v for k, v in letter.headers.items() if k not in _BOOKKEEPING and not k.startswith("Nats-")}
    msg_id = letter.headers.get(ORIGINAL_MSG_ID, "")
    if not msg_id:
        try:
            original = await js.get_msg(letter.original_stream, seq=letter.original_sequence)
        except NotFoundError:
            original = None
        if original is not None and (original.data or b"") == letter.payload:
            headers = {str(k): str(v) for k, v in (original.headers or {}).items()}
            msg_id = headers.get("Nats-Msg-Id", "")
            carried = {k: v for k, v in headers.items() if not k.startswith("Nats-")} | carried
    root = carried.get(REDRIVEN_FROM) or msg_id or f"{letter.original_stream}:{letter.original_sequence}"
    return {**carried, REDRIVEN_FROM: root}, root


async def plan_redrive(js: JetStreamContext, letters: Iterable[DeadLetter], report: RedriveReport) -> None:
    """Fill `report.planned`: one republish per original message, the earliest DLQ record naming its id."""
    groups: dict[tuple[str, int], list[DeadLetter]] = {}
    for letter in letters:
        report.selected += 1
        reason = _why_not(letter)
        if reason is not None:
            report.skipped.append((letter.sequence, reason))
            continue
        groups.setdefault((letter.original_stream, letter.original_sequence), []).append(letter)
    for (stream, _), group in groups.items():
        first = min(group, key=lambda letter: letter.sequence)
        headers, root = await _original_headers(js, first)
        message = OutgoingMessage(first.original_subject, first.payload, f"redrive:{first.sequence}:{root}", headers)
        report.planned.append(Redrive(tuple(sorted(letter.sequence for letter in group)), stream, message))


async def _publish(js: JetStreamContext, batch: Sequence[Redrive], report: RedriveReport) -> list[Redrive]:
    """Publish a batch (one stream); on failure, one at a time so that one bad message fails alone."""
    try:
        acks = await publish_all(js, [item.message for item in batch], expected_stream=batch[0].stream)
    except PublishFailed:
        if len(batch) == 1:
            raise
        acked: list[Redrive] = []
        for item in batch:
            try:
                acked += await _publish(js, [item], report)
            except PublishFailed as error:
                report.failed.extend((sequence, str(error)) for sequence in item.dead_letters)
        return acked
    for ack in acks:
        if ack.duplicate:
            report.already_published += 1
        else:
            report.published += 1
    return list(batch)


async def _remove(js: JetStreamContext, sequence: int) -> bool:
    try:
        return bool(await js.delete_msg(DLQ.name, sequence))
    except NotFoundError:
        return False  # another redrive removed it already


async def execute_redrive(js: JetStreamContext, report: RedriveReport) -> None:
    """Publish every planned redrive; delete its DLQ records only once JetStream acknowledged it."""
    by_stream: dict[str, list[Redrive]] = {}
    for item in report.planned:
        by_stream.setdefault(item.stream, []).append(item)
    for items in by_stream.values():
        for start in range(0, len(items), PUBLISH_BATCH):
            batch = items[start : start + PUBLISH_BATCH]
            try:
                acked = await _publish(js, batch, report)
            except PublishFailed as error:
                report.failed.extend((sequence, str(error)) for sequence in batch[0].dead_letters)
                continue
            for item in acked:
                for sequence in item.dead_letters:
                    if await _remove(js, sequence):
                        report.removed += 1


async def redrive(
    js: JetStreamContext,
    *,
    service: str | None = None,
    sequences: Sequence[int] = (),
    dry_run: bool = False,
) -> RedriveReport:
    """Redrive the given DLQ sequences (or every dead letter of `service`, or all): see the module doc."""
    report = RedriveReport()
    if sequences:
        letters = []
        for sequence in sorted(set(sequences)):
            letter = await read_dead_letter(js, sequence)
            if letter is None:
                report.skipped.append((sequence, "not in DVC_DLQ (already redriven?)"))
            elif service not in (None, letter.service):
                report.skipped.append((sequence, f"dead-lettered by {letter.service}, not {service}"))
            else:
                letters.append(letter)
    else:
        letters = await read_dead_letters(js, service)
    await plan_redrive(js, letters, report)
    if not dry_run:
        await execute_redrive(js, report)
    return report

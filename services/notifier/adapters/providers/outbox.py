"""The embedded default provider: one JSON line per message in a local file (var/sms-outbox.jsonl), mode 0600
(it holds phones and texts).

Concurrent `send()` calls are group-committed: while one write is in flight the next lines queue up and are
written together with one flush + fsync. Writers in one process (any event loop, any provider instance) that
share a path are serialised by a per-path lock, so lines never interleave.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from services.notifier.adapters.providers.base import ReceiptCallback, ReceiptEmitter
from services.notifier.adapters.providers.config import OutboxSettings
from services.notifier.domain.sending import DeliveryReceipt, OutgoingSms, ReceiptStatus, SendResult

OUTBOX_MODE = 0o600
_locks_guard = threading.Lock()
_path_locks: dict[Path, threading.Lock] = {}


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _path_locks.setdefault(path, threading.Lock())


def _append_lines(path: Path, lines: list[bytes]) -> None:
    resolved = path.resolve()
    with _lock_for(resolved):
        resolved.parent.mkdir(parents=True, exist_ok=True)
        # Phones and texts: readable by the service's user only, also when the file was created before (umask)
        descriptor = os.open(resolved, os.O_RDWR | os.O_CREAT | os.O_APPEND, OUTBOX_MODE)
        os.fchmod(descriptor, OUTBOX_MODE)
        with os.fdopen(descriptor, "ab+") as file:
            prefix = b""
            if file.tell() > 0:  # a crash mid-line must not glue the next line onto it
                file.seek(-1, os.SEEK_END)
                if file.read(1) != b"\n":
                    prefix = b"\n"
            file.write(prefix + b"".join(lines))
            file.flush()
            os.fsync(file.fileno())


def read_outbox(path: Path) -> list[dict[str, Any]]:
    """Every complete line of an outbox file (an unterminated or corrupt line is skipped)."""
    if not path.exists():
        return []
    records: list[dict[str, Any]] = []
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


class OutboxProvider:
    def __init__(self, settings: OutboxSettings, on_receipt: ReceiptCallback | None = None) -> None:
        self.name = settings.name
        self.settings = settings
        self._receipts = ReceiptEmitter(on_receipt if settings.immediate_receipt else None)
        self._pending: list[tuple[bytes, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def send(self, message: OutgoingSms) -> SendResult:
        reference = f"outbox-{uuid.uuid4().hex}"
        record = {
            "notification_id": message.notification_id,
            "to": message.to_e164,
            "text": message.text,
            "encoding": message.encoding.value,
            "segments": message.segments,
            "sender": message.sender,
            "provider_reference": reference,
            "sent_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        try:
            await self._write(orjson.dumps(record) + b"\n")
        except OSError as exc:
            return SendResult(accepted=False, error=f"outbox write failed: {exc.strerror}", provider=self.name)
        self._receipts.emit(
            DeliveryReceipt(self.name, reference, ReceiptStatus.DELIVERED, "outbox"),
            self.settings.receipt_delay_seconds,
        )
        return SendResult(accepted=True, provider_reference=reference, provider=self.name)

    async def _write(self, line: bytes) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((line, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_pending())
        await future

    async def _flush_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(_append_lines, self.settings.path, [line for line, _ in batch])
            except OSError as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self._receipts.drain()

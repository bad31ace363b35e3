"""When each API key was last used, for `dvc-pulse <service> keys list`.

Recorded in memory on every accepted request and written to a small JSON file beside the keys file
(`{"name": "2026-12-04T06:59:00Z", ...}`) at most once per `flush_every` seconds, so a busy key costs no write per
request. The keys file itself is never rewritten by a service (only the CLI writes it), so the two cannot race.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson

FLUSH_EVERY_SECONDS = 60.0


def read_usage(path: Path) -> dict[str, datetime]:
    """Last use of each key name ({} when nothing was recorded yet or the file is unreadable)."""
    try:
        raw = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    if not isinstance(raw, dict):
        return {}
    found: dict[str, datetime] = {}
    for name, value in raw.items():
        try:
            found[str(name)] = datetime.fromisoformat(str(value))
        except ValueError:
            continue
    return found


class KeyUsage:
    def __init__(
        self,
        path: Path,
        flush_every: float = FLUSH_EVERY_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        logger: logging.Logger | None = None,
    ) -> None:
        self.path = path
        self.flush_every = flush_every
        self._clock = clock
        self._logger = logger or logging.getLogger("dvc_pulse.keys")
        self._pending: dict[str, datetime] = {}
        self._flushed_at: float | None = None
        self._failed = False

    def touch(self, name: str) -> None:
        if self._failed:
            return
        self._pending[name] = self._clock()
        now = time.monotonic()
        if self._flushed_at is None or now - self._flushed_at >= self.flush_every:
            self._flushed_at = now
            self.flush()

    def flush(self) -> None:
        """Merge what was recorded since the last flush into the file (atomically, mode 0600)."""
        if not self._pending:
            return
        merged = read_usage(self.path)
        for name, moment in self._pending.items():
            if name not in merged or merged[name] < moment:
                merged[name] = moment
        document = {name: moment.isoformat() for name, moment in sorted(merged.items())}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{self.path.stem}-", dir=self.path.parent)
            with os.fdopen(handle, "wb") as file:
                file.write(orjson.dumps(document, option=orjson.OPT_INDENT_2))
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except OSError as error:  # a read-only directory must not fail requests: stop recording, say so once
            self._logger.warning("cannot record when keys were last used in %s: %s", self.path, error)
            self._failed = True
            return
        self._pending.clear()

"""Attempts per key in a sliding window (lookups by dossier code, by client address): in memory, bounded."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class AttemptLimiter:
    """At most `max_attempts` counted attempts per key within `window_seconds`; at most `max_keys` keys are
    tracked (the least recently used is forgotten first, so memory stays bounded under a flood of keys)."""

    def __init__(
        self,
        max_attempts: int,
        window_seconds: float,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_attempts = max_attempts
        self.window_seconds = window_seconds
        self.max_keys = max_keys
        self.clock = clock
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        attempts = self._attempts.get(key)
        if attempts is None:
            attempts = deque()
            self._attempts[key] = attempts
            while len(self._attempts) > self.max_keys:
                self._attempts.popitem(last=False)
        self._attempts.move_to_end(key)
        while attempts and attempts[0] <= now - self.window_seconds:
            attempts.popleft()
        return attempts

    def retry_after(self, key: str) -> float | None:
        """Seconds until `key` may try again, or None when it may now."""
        attempts = self._recent(key)
        if len(attempts) < self.max_attempts:
            return None
        return max(1.0, attempts[0] + self.window_seconds - self.clock())

    def record(self, key: str) -> None:
        self._recent(key).append(self.clock())

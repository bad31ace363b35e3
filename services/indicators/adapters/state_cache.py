"""Write-through cache of dossier states, so the hot path skips reading rows it wrote itself.

Safe because every writer holds the projection lock and rewrites the consumer-state row: the cache is
trusted only while that row still holds what THIS store wrote last (the `token`); anything else (a
rebuild swap, another process) clears it. States are handed out without copying and mutated by the
fold, so a batch that began and was never `remember`ed (its transaction failed) clears the cache too.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Any

from services.indicators.domain.dossier import DossierState

Token = tuple[Any, ...]


class StateCache:
    """Least recently saved states are evicted first. A plain dict in insertion order (re-inserted on save):
    an OrderedDict costs about 40 bytes more per state for its links."""

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self.token: Token | None = None
        self._states: dict[str, DossierState] = {}
        self._open_batch = False

    def __len__(self) -> int:
        return len(self._states)

    def validate(self, token: Token | None) -> None:
        """Drop everything unless the stored position is the one this store committed last and the previous
        batch was committed."""
        if token is None or token != self.token or self._open_batch:
            self._states.clear()
            self.token = None
            self._open_batch = False

    def begin(self) -> None:
        """A batch starts using (and mutating) cached states."""
        self._open_batch = True

    def take(self, code: str) -> DossierState | None:
        """The state if cached; the batch saves it, and `remember` makes it the most recent."""
        return self._states.get(code)

    def remember(self, states: Iterable[DossierState], token: Token) -> None:
        """After the commit: keep the committed states (least recently saved ones evicted)."""
        self._open_batch = False
        if self.limit <= 0:
            return
        cached = self._states
        for state in states:
            code = state.dossier_code
            cached.pop(code, None)
            cached[code] = state
        excess = len(cached) - self.limit
        if excess > 0:
            for code in list(islice(cached, excess)):
                del cached[code]
        self.token = token

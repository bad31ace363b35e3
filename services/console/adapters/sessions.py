"""Operator sessions: a random cookie value -> the tasks key the operator signed in with (kept only in memory,
so a restart signs everyone out; the key never reaches the browser after the sign-in form)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "dvc_console"


@dataclass(frozen=True)
class Session:
    key: str
    expires_at: float


class SessionStore:
    def __init__(self, lifetime_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime_seconds = lifetime_seconds
        self.clock = clock
        self._sessions: dict[str, Session] = {}

    def open(self, key: str) -> str:
        self._forget_expired()
        token = secrets.token_urlsafe(32)
        self._sessions[token] = Session(key, self.clock() + self.lifetime_seconds)
        return token

    def key_of(self, token: str | None) -> str | None:
        session = self._sessions.get(token or "")
        if session is None or session.expires_at <= self.clock():
            return None
        return session.key

    def close(self, token: str | None) -> None:
        self._sessions.pop(token or "", None)

    def _forget_expired(self) -> None:
        now = self.clock()
        for token in [token for token, session in self._sessions.items() if session.expires_at <= now]:
            del self._sessions[token]

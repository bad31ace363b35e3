"""Who may call a route, decided before its body is read.

A route that needs a key declares a `KeyGuard` dependency. FastAPI reads and parses a request's body before it
resolves any dependency, so the guard's check also runs in `LimitsMiddleware` (services.runtime.http_limits),
ahead of the body: an unauthenticated request gets 401 without a byte of its body read, broken JSON without a
key gets 401, not 422. The dependency then hands the route what the middleware admitted.

`KeyGuard` is an `HTTPBearer`, so every guarded route declares its security scheme in the OpenAPI document; a
route without one is public, which the auth-matrix test (tests/security) allows only for a listed few.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.security import HTTPBearer

from services.runtime.api_keys import KeyRefused, KeyStore, Refusal, S, bearer_token
from services.runtime.problems import Problem

ADMITTED = "dvc_pulse.admitted"
CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Admitted:
    """Who was let in: `identity` names the caller for rate limits (`tasks:vhxh-2026`); `principal` is what the
    route receives (a key spec, a principal, a provider name)."""

    identity: str
    principal: Any


Check = Callable[[Request], Admitted]


class KeyGuard(HTTPBearer):
    """A route dependency: `check` admits the request or raises Problem (401, 403, 404)."""

    def __init__(self, check: Check, *, scheme_name: str, description: str) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=False)
        self.check = check

    async def __call__(self, request: Request) -> Any:  # type: ignore[override]
        admitted = request.scope.get(ADMITTED)
        if not isinstance(admitted, Admitted):  # an app without LimitsMiddleware (the body is parsed already)
            admitted = self.check(request)
        return admitted.principal


@dataclass(frozen=True)
class KeyMessages:
    """The 401 details of one service, naming the command that creates a key."""

    missing: str
    unknown: str


def bearer_check(
    service: str, store: KeyStore[S], messages: KeyMessages, admit: Callable[[S], Any] = lambda spec: spec
) -> Check:
    """Admit a request whose `Authorization: Bearer <key>` is a known, unrevoked, unexpired key of `store`."""

    def check(request: Request) -> Admitted:
        token = bearer_token(request.headers.get("authorization"))
        try:
            spec = store.ring().check(token)
        except KeyRefused as refused:
            raise Problem(401, _refusal_detail(refused, messages), headers=CHALLENGE) from None
        return Admitted(f"{service}:{spec.name}", admit(spec))

    return check


def _refusal_detail(refused: KeyRefused, messages: KeyMessages) -> str:
    if refused.reason is Refusal.MISSING:
        return messages.missing
    if refused.reason is Refusal.UNKNOWN:
        return messages.unknown
    return f"key {refused.name!r} is {refused.reason.value}: ask for a new key ({messages.unknown})"

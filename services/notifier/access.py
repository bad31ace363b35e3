"""Who may call the notifier's API: operators with a key (notifications, opt-outs) and SMS providers with their
token (receipts, inbound replies). Keys are looked up by their SHA-256 and provider tokens compared in constant
time (services.runtime.api_keys, the providers' `receipt_token_ok`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, Request

from services.notifier.adapters.providers import UnknownProvider
from services.notifier.domain.operators import KeySpec
from services.runtime.api_keys import KeyStore, bearer_token
from services.runtime.problems import Problem

_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_PROBLEM = {"application/problem+json": {"schema": {"type": "object"}}}
OPERATOR_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No operator key or an unknown one", "content": _PROBLEM}
}
PROVIDER_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "The provider's token is missing or wrong", "content": _PROBLEM},
    404: {"description": "No such provider is configured", "content": _PROBLEM},
}


def operator_authenticator(keys: KeyStore[KeySpec]) -> Callable[..., Awaitable[str]]:
    """The dependency that admits a request with a valid operator key; returns the key's name."""

    async def operator(authorization: Annotated[str | None, Header()] = None) -> str:
        token = bearer_token(authorization)
        if token is None:
            raise Problem(
                401,
                "this endpoint needs an operator key: send `Authorization: Bearer <key>` "
                "(create one with `dvc-pulse notifier keys add NAME`)",
                headers=_CHALLENGE,
            )
        found = keys.ring().authenticate(token)
        if found is None:
            raise Problem(
                401,
                "unknown operator key: send a key from `dvc-pulse notifier keys add NAME` as "
                "`Authorization: Bearer <key>`",
                headers=_CHALLENGE,
            )
        return found.name

    return operator


def check_provider_token(
    token_ok: Callable[[str, str | None], bool], provider: str, request: Request, token: str | None
) -> None:
    """404 for an unknown provider, 401 unless the provider's token is presented (when it has one)."""
    presented = bearer_token(request.headers.get("authorization")) or token
    try:
        accepted = token_ok(provider, presented)
    except UnknownProvider:
        raise Problem(404, f"no SMS provider named {provider!r} is configured") from None
    if not accepted:
        raise Problem(
            401,
            f"provider {provider!r} needs its token: send `Authorization: Bearer <token>` or `?token=<token>`",
            headers=_CHALLENGE,
        )

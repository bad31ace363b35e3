"""Who may call the notifier's API: operators with a key (notifications, opt-outs) and SMS providers with their
token (receipts, inbound replies). Both are `KeyGuard`s, checked before a body is read (services.runtime.guard);
operator keys are looked up by their SHA-256, provider tokens compared in constant time (CallbackTokens)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from services.notifier.adapters.providers import UnknownProvider
from services.notifier.adapters.providers.callback_auth import CallbackTokens
from services.notifier.domain.operators import KeySpec
from services.runtime.api_keys import KeyStore, bearer_token
from services.runtime.guard import CHALLENGE, Admitted, KeyGuard, KeyMessages, bearer_check
from services.runtime.problems import Problem

_PROBLEM = {"application/problem+json": {"schema": {"type": "object"}}}
_TOO_MANY = {"description": "Too many writes with this key; retry after `Retry-After` seconds", "content": _PROBLEM}
OPERATOR_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No operator key, or an unknown, revoked or expired one", "content": _PROBLEM},
    429: _TOO_MANY,
}
PROVIDER_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "The provider's token is missing or wrong", "content": _PROBLEM},
    404: {"description": "No such provider is configured", "content": _PROBLEM},
    429: _TOO_MANY,
}
_OPERATOR_MESSAGES = KeyMessages(
    missing="this endpoint needs an operator key: send `Authorization: Bearer <key>` "
    "(create one with `dvc-pulse notifier keys add NAME`)",
    unknown="unknown operator key: send a key from `dvc-pulse notifier keys add NAME` as `Authorization: Bearer <key>`",
)


def operator_guard(keys: KeyStore[KeySpec]) -> KeyGuard:
    """Admits a request with a valid operator key; the route receives the key's spec."""
    return KeyGuard(
        bearer_check("notifier", keys, _OPERATOR_MESSAGES),
        scheme_name="operatorKey",
        description="An operator key from `dvc-pulse notifier keys add NAME`, as `Authorization: Bearer <key>`",
    )


def provider_guard(tokens: CallbackTokens) -> KeyGuard:
    """404 for an unknown provider, 401 unless that provider's token is presented; the route receives its name."""

    def check(request: Request) -> Admitted:
        provider = str(request.path_params.get("provider", ""))
        header = bearer_token(request.headers.get("authorization"))
        try:
            accepted = tokens.accepts(provider, header, request.query_params.get("token"))
            where = "`Authorization: Bearer <token>`" + (" or `?token=`" if tokens.accepts_query(provider) else "")
        except UnknownProvider:
            raise Problem(404, f"no SMS provider named {provider!r} is configured") from None
        if not accepted:
            raise Problem(401, f"provider {provider!r} needs its token: send {where}", headers=CHALLENGE)
        return Admitted(f"provider:{provider}", provider)

    return KeyGuard(
        check,
        scheme_name="providerToken",
        description="The provider's receipt_token as `Authorization: Bearer <token>` (`?token=` only for a provider "
        "configured with receipt_token_in_query)",
    )

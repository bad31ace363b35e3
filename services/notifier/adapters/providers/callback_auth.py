"""Who may post a provider's delivery receipts and inbound replies: whoever presents that provider's token.

Fail closed: every provider, the embedded outbox included, must have a non-empty token when the notifier starts;
a missing one, or `${VAR}` expanding to nothing, stops it with a message naming the provider. The outbox's token
defaults to the file `$DVC_VAR_DIR/notifier-outbox-token` (written, mode 0600, by `make up`). The token is read
from `Authorization: Bearer <token>`; `?token=` is accepted only for a provider configured with
`receipt_token_in_query: true` (a gateway that can call a URL but send no header).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from services.notifier.adapters.providers.config import OutboxSettings, ProviderSettings
from services.notifier.adapters.providers.factory import UnknownProvider
from services.notifier.adapters.providers.http_gateway import expand_env

OUTBOX_TOKEN_FILE = "notifier-outbox-token"


@dataclass(frozen=True)
class CallbackToken:
    value: bytes
    in_query: bool


def _resolve(settings: ProviderSettings, var_dir: Path) -> CallbackToken:
    configured = settings.receipt_token
    if configured is None and isinstance(settings, OutboxSettings):
        path = var_dir / OUTBOX_TOKEN_FILE
        try:
            configured = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValueError(
                f"provider {settings.name!r} has no receipt_token and {path} does not exist: run `make up` (it writes "
                "one) or set receipt_token in DVC_NOTIFIER_PROVIDERS"
            ) from None
    if configured is None:
        raise ValueError(
            f"provider {settings.name!r} has no receipt_token: every provider needs one for its receipt and inbound "
            "callbacks (e.g. receipt_token: ${MY_PROVIDER_TOKEN})"
        )
    value = expand_env(configured).strip()
    if not value:
        raise ValueError(
            f"provider {settings.name!r}: receipt_token {configured.strip()!r} is empty (an unset ${{VAR}}?); "
            "callbacks would be open to anyone"
        )
    return CallbackToken(value.encode(), settings.receipt_token_in_query)


class CallbackTokens:
    """The tokens of every configured provider, resolved once at start."""

    def __init__(self, tokens: Mapping[str, CallbackToken]) -> None:
        self._tokens = dict(tokens)

    @classmethod
    def resolve(cls, providers: Sequence[ProviderSettings], var_dir: Path) -> CallbackTokens:
        """Raises ValueError naming the first provider without a usable token."""
        return cls({item.name: _resolve(item, var_dir) for item in providers})

    def accepts_query(self, provider: str) -> bool:
        return self._token(provider).in_query

    def accepts(self, provider: str, header_token: str | None, query_token: str | None) -> bool:
        """True when the provider's token was presented where it may be; UnknownProvider for an unknown name."""
        token = self._token(provider)
        presented = header_token or (query_token if token.in_query else None)
        return presented is not None and hmac.compare_digest(presented.encode(), token.value)

    def _token(self, provider: str) -> CallbackToken:
        token = self._tokens.get(provider)
        if token is None:
            raise UnknownProvider(provider)
        return token

"""A generic JSON SMS-gateway client, of the kind Vietnamese brandname aggregators offer (eSMS, SpeedSMS,
VNPT/Viettel brandname APIs): one request per message, body built from a template, answer classified into
accepted / temporary / permanent. Delivery reports come back through POST /v1/receipts/{name}.

A timeout or a lost connection after the request was written may hide an acceptance: that outcome is
`unknown` (never retried, never failed over, so the citizen never gets the message twice), settled by a
receipt quoting the {reference} (our notification id) or by the operator. Only failures before anything
reached the gateway (connection refused, connect timeout) and explicit answers (HTTP errors, gateway codes)
are definite.
"""

from __future__ import annotations

import os
import re
from string import Formatter
from typing import Any

import httpx
import orjson

from services.notifier.adapters.providers.config import HttpSettings
from services.notifier.adapters.providers.receipts import lookup
from services.notifier.domain.sending import Encoding, OutgoingSms, SendResult

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
_CONNECTION_LOST = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ERROR_LIMIT = 200


def expand_env(value: str) -> str:
    """`${NAME}` replaced by the environment variable (secrets stay out of the YAML file)."""
    return _ENV_VAR.sub(lambda match: os.environ.get(match.group(1), ""), value)


def format_phone(e164: str, style: str) -> str:
    if style == "e164":
        return e164
    digits = e164.removeprefix("+")
    if style == "national" and digits.startswith("84"):
        return "0" + digits[2:]
    return digits


def render_template(template: Any, values: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        return {key: render_template(item, values) for key, item in template.items()}
    if isinstance(template, list):
        return [render_template(item, values) for item in template]
    if isinstance(template, str):
        parts = list(Formatter().parse(template))
        if len(parts) == 1 and parts[0][0] == "" and parts[0][1] and not parts[0][2] and not parts[0][3]:
            return values[parts[0][1]]  # exactly one placeholder: keep the value's type
        return "".join(literal + (str(values[field]) if field is not None else "") for literal, field, _, _ in parts)
    return template


class HttpGatewayProvider:
    def __init__(self, settings: HttpSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.name = settings.name
        self.settings = settings
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            settings = self.settings
            self._client = httpx.AsyncClient(
                headers={key: expand_env(value).strip() for key, value in settings.headers.items()},
                timeout=httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds),
                limits=httpx.Limits(max_connections=settings.max_connections),
                transport=self._transport,
            )
        return self._client

    def body(self, message: OutgoingSms) -> Any:
        mapping = self.settings.body
        values: dict[str, Any] = {
            "phone": format_phone(message.to_e164, mapping.phone_format),
            "text": message.text,
            "brandname": self.settings.brandname or message.sender or "",
            "unicode": mapping.unicode_values[1 if message.encoding is Encoding.UCS2 else 0],
            "reference": message.notification_id,
            "encoding": message.encoding.value,
            "segments": message.segments,
        }
        return render_template(mapping.template, values)

    async def send(self, message: OutgoingSms) -> SendResult:
        try:
            response = await self._http().request(
                self.settings.method,
                self.settings.url,
                content=orjson.dumps(self.body(message)),
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        except _NOT_SENT as exc:  # nothing reached the gateway: another attempt or provider cannot duplicate it
            return self._failure(f"gateway unreachable ({type(exc).__name__})", permanent=False)
        except httpx.TimeoutException as exc:  # read/write timeout: the request was (being) written
            return self._unknown(f"gateway timeout ({type(exc).__name__})", "provider_timeout")
        except _CONNECTION_LOST as exc:  # reset or closed after the request was written
            return self._unknown(f"connection lost ({type(exc).__name__})", "connection_lost")
        except httpx.HTTPError as exc:
            return self._failure(f"gateway unreachable ({type(exc).__name__})", permanent=False)
        return self._classify(response, message)

    def _unknown(self, error: str, reason: str) -> SendResult:
        return SendResult(accepted=False, error=error[:_ERROR_LIMIT], provider=self.name, unknown=True, reason=reason)

    def _failure(self, error: str, permanent: bool) -> SendResult:
        return SendResult(accepted=False, error=error[:_ERROR_LIMIT], permanent=permanent, provider=self.name)

    def _classify(self, response: httpx.Response, message: OutgoingSms) -> SendResult:
        mapping = self.settings.response
        try:
            answer: Any = response.json()
        except ValueError:
            answer = None
        gateway_error = (
            lookup(answer, mapping.error_field) if mapping.error_field and isinstance(answer, dict) else None
        )
        detail = f": {gateway_error}" if gateway_error else ""
        if not response.is_success:
            if response.status_code in mapping.unknown_statuses:  # a proxy gave up waiting for the gateway
                return self._unknown(f"HTTP {response.status_code}{detail}", "provider_timeout")
            permanent = response.status_code in mapping.permanent_statuses
            return self._failure(f"HTTP {response.status_code}{detail}", permanent)
        if mapping.code_field is not None:
            code = lookup(answer, mapping.code_field) if isinstance(answer, dict) else None
            if code is None:
                return self._failure(f"HTTP {response.status_code}: no {mapping.code_field} in the answer", False)
            code_text = str(code)
            if code_text not in mapping.success_codes:
                permanent = code_text in mapping.permanent_codes
                return self._failure(f"gateway code {code_text}{detail}", permanent)
        reference = (
            lookup(answer, mapping.reference_field) if mapping.reference_field and isinstance(answer, dict) else None
        )
        return SendResult(
            accepted=True,
            provider_reference=str(reference) if reference not in (None, "") else message.notification_id,
            provider=self.name,
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

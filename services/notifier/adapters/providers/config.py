"""Provider settings: which SMS providers the notifier uses, in which order, and how each is reached.

Configured by `DVC_NOTIFIER_PROVIDERS`, either a comma-separated list of names that need no further settings
(`outbox`), a YAML/JSON list of mappings, or `@path/to/providers.yaml`. Each mapping has a `kind`
(`outbox`, `http`, `smpp`) and an optional `name` (default: the kind) used in receipts, metrics and the
`POST /v1/receipts/{name}` route.
"""

from __future__ import annotations

from pathlib import Path
from string import Formatter
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    test_numbers: bool = Field(default=True, description="Short-circuit the documented test numbers")
    receipt_token: str | None = Field(
        default=None,
        description="Shared secret the provider's receipt and inbound callbacks must present (${VAR} expanded); "
        "required (the outbox's defaults to $DVC_VAR_DIR/notifier-outbox-token)",
    )
    receipt_token_in_query: bool = Field(
        default=False, description="Also accept the token as ?token= (only for a gateway that cannot send a header)"
    )

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("name"):
            return {**data, "name": data.get("kind") or cls.model_fields["kind"].default}
        return data


DEFAULT_OUTBOX_FILE = "sms-outbox.jsonl"


class OutboxSettings(_Base):
    kind: Literal["outbox"] = "outbox"
    path: Path = Path("var") / DEFAULT_OUTBOX_FILE
    immediate_receipt: bool = Field(default=True, description="Report every accepted message as delivered")
    receipt_delay_seconds: float = Field(default=0.0, ge=0)


PLACEHOLDERS = ("phone", "text", "brandname", "unicode", "reference", "encoding", "segments")

ESMS_LIKE_TEMPLATE: dict[str, Any] = {
    "Phone": "{phone}",
    "Content": "{text}",
    "Brandname": "{brandname}",
    "IsUnicode": "{unicode}",
    "RequestId": "{reference}",
    "SmsType": "2",
}


def _check_template(value: Any) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _check_template(item)
    elif isinstance(value, list):
        for item in value:
            _check_template(item)
    elif isinstance(value, str):
        for _, field, _, _ in Formatter().parse(value):
            if field is not None and field not in PLACEHOLDERS:
                raise ValueError(f"unknown placeholder {{{field}}} (known: {', '.join(PLACEHOLDERS)})")


class HttpBodyMapping(BaseModel):
    """The gateway's JSON body as a template. A string that is exactly one placeholder (`"{unicode}"`) keeps the
    value's type; other strings are formatted. Placeholders: {phone} {text} {brandname} {unicode} {reference}
    (the notification id) {encoding} {segments}. Nested objects and lists are allowed (`to: ["{phone}"]`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: dict[str, Any] = Field(default_factory=lambda: dict(ESMS_LIKE_TEMPLATE))
    phone_format: Literal["e164", "plus_less", "national"] = Field(
        default="plus_less", description="+84912345678 | 84912345678 | 0912345678"
    )
    unicode_values: tuple[Any, Any] = Field(default=(0, 1), description="(GSM-7 value, UCS-2 value)")

    @model_validator(mode="after")
    def _known_placeholders(self) -> HttpBodyMapping:
        _check_template(self.template)
        return self


class HttpResponseMapping(BaseModel):
    """How the gateway's answer says whether it accepted the message.

    HTTP 2xx: the JSON field `code_field` decides (None: any 2xx is acceptance); a code in `success_codes` is
    acceptance, in `permanent_codes` a permanent rejection, anything else a temporary error. Other HTTP
    statuses: `permanent_statuses` are permanent rejections, `unknown_statuses` (504: a proxy stopped waiting
    for a gateway that may have taken the message) unknown outcomes, everything else (401/403
    misconfiguration, 408, 429, other 5xx, connection refused) temporary, so the failover provider tries the
    next provider. A timeout or a connection lost after the request was written is unknown: never retried."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code_field: str | None = Field(default="CodeResult", description="Dotted path into the JSON answer")
    success_codes: tuple[str, ...] = ("100",)
    permanent_codes: tuple[str, ...] = ()
    permanent_statuses: tuple[int, ...] = (400, 413, 422)
    unknown_statuses: tuple[int, ...] = (504,)
    reference_field: str | None = Field(default="SMSID", description="None, or absent: our notification id")
    error_field: str | None = "ErrorMessage"


class HttpReceiptMapping(BaseModel):
    """How the gateway's delivery-report callback JSON maps to a DeliveryReceipt."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference_field: str = "SMSID"
    request_id_field: str | None = Field(
        default=None,
        description="Field quoting our {reference} (e.g. RequestId); preferred when present, so a receipt also "
        "settles a message whose send answer was lost (status unknown, no SMSID recorded)",
    )
    status_field: str = "SendStatus"
    detail_field: str | None = None
    delivered_values: tuple[str, ...] = ("2", "DELIVRD", "delivered", "DELIVERED", "success")
    permanent_values: tuple[str, ...] = ("3", "4", "UNDELIV", "REJECTD", "EXPIRED", "permanent-failure")
    # anything else is a temporary failure


class HttpSettings(_Base):
    kind: Literal["http"] = "http"
    url: str
    method: Literal["POST", "PUT"] = "POST"
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="e.g. Authorization: Bearer ${ESMS_API_KEY} (${VAR} read from the environment)",
    )
    brandname: str | None = None
    body: HttpBodyMapping = HttpBodyMapping()
    response: HttpResponseMapping = HttpResponseMapping()
    receipt: HttpReceiptMapping = HttpReceiptMapping()
    connect_timeout_seconds: float = Field(default=3.0, gt=0)
    timeout_seconds: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=20, ge=1)


class SmppSettings(_Base):
    kind: Literal["smpp"] = "smpp"
    host: str
    port: int = 2775
    system_id: str
    password: str = Field(default="", description="${VAR} is read from the environment")
    system_type: str = ""
    source_addr: str = Field(default="", description="Brandname (alphanumeric) or short code")
    source_addr_ton: int = 5  # alphanumeric
    source_addr_npi: int = 0
    dest_addr_ton: int = 1  # international
    dest_addr_npi: int = 1  # ISDN/E.164
    enquire_link_seconds: float = Field(default=30.0, gt=0)
    response_timeout_seconds: float = Field(default=10.0, gt=0)
    reconnect_delay_seconds: float = Field(default=2.0, gt=0, description="Doubles per failure, up to 60 s")
    window: int = Field(default=10, ge=1, description="submit_sm awaiting their response at once")
    permanent_statuses: tuple[int, ...] = Field(
        default=(0x01, 0x0B), description="submit_sm_resp statuses that retrying cannot fix (bad length, bad number)"
    )


ProviderSettings = Annotated[OutboxSettings | HttpSettings | SmppSettings, Field(discriminator="kind")]
_LIST: TypeAdapter[list[ProviderSettings]] = TypeAdapter(list[ProviderSettings])


class FailoverSettings(BaseModel):
    """When the failover provider stops trying a provider, and when it probes it again."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_seconds: float = Field(default=60.0, gt=0, description="Sliding window of recent sends")
    min_requests: int = Field(default=5, ge=1, description="Sends in the window before the rate counts")
    error_rate_threshold: float = Field(default=0.5, gt=0, le=1)
    open_seconds: float = Field(default=30.0, gt=0, description="How long a tripped provider is skipped")


def _with_var_dir(
    settings: list[OutboxSettings | HttpSettings | SmppSettings], var_dir: Path | None
) -> list[OutboxSettings | HttpSettings | SmppSettings]:
    if var_dir is None:
        return settings
    return [
        item.model_copy(update={"path": var_dir / DEFAULT_OUTBOX_FILE})
        if isinstance(item, OutboxSettings) and "path" not in item.model_fields_set
        else item
        for item in settings
    ]


def parse_provider_settings(
    value: str | list[dict[str, Any]], var_dir: Path | None = None
) -> list[OutboxSettings | HttpSettings | SmppSettings]:
    """`outbox` / `outbox,http`-style names, a YAML or JSON list, `@file.yaml`, or an already-parsed list.

    An outbox without an explicit `path` writes to `<var_dir>/sms-outbox.jsonl` when `var_dir` is given."""
    if isinstance(value, list):
        return _with_var_dir(_LIST.validate_python(value), var_dir)
    text = value.strip()
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    elif not text.startswith(("[", "-", "{")) and ":" not in text:
        names = [{"kind": name.strip()} for name in text.split(",") if name.strip()]
        return _with_var_dir(_LIST.validate_python(names), var_dir)
    loaded = yaml.safe_load(text)
    if isinstance(loaded, dict):
        loaded = loaded.get("providers", [loaded])
    if not isinstance(loaded, list):
        raise ValueError("provider settings must be a list of providers")
    return _with_var_dir(_LIST.validate_python(loaded), var_dir)


def parse_failover_settings(value: str) -> FailoverSettings:
    """The `failover:` mapping of a YAML document `{providers: [...], failover: {...}}` (`@file` allowed);
    defaults when there is none (a plain list, or provider names)."""
    text = value.strip()
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    if not text.startswith("{") and ":" not in text:
        return FailoverSettings()
    loaded = yaml.safe_load(text)
    if isinstance(loaded, dict) and isinstance(loaded.get("failover"), dict):
        return FailoverSettings.model_validate(loaded["failover"])
    return FailoverSettings()

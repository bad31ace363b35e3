"""Provider settings: which SMS providers the notifier uses, in which order, and how each is reached.

Configured by `DVC_NOTIFIER_PROVIDERS`, either a comma-separated list of names that need no further settings
(`outbox`), a YAML/JSON list of mappings, or `@path/to/providers.yaml`. Each mapping has a `kind`
(`outbox`, `http`, `smpp`) and an optional `name` (default: the kind) used in receipts, metrics and the
`POST /v1/receipts/{name}` route.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    test_numbers: bool = Field(default=True, description="Short-circuit the documented test numbers")

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("name"):
            return {**data, "name": data.get("kind") or cls.model_fields["kind"].default}
        return data


class OutboxSettings(_Base):
    kind: Literal["outbox"] = "outbox"
    path: Path = Path("var/sms-outbox.jsonl")
    immediate_receipt: bool = Field(default=True, description="Report every accepted message as delivered")
    receipt_delay_seconds: float = Field(default=0.0, ge=0)


class HttpBodyMapping(BaseModel):
    """Field names of the gateway's JSON body. A `None` field is left out of the body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phone: str = "Phone"
    text: str = "Content"
    brandname: str | None = "Brandname"
    unicode: str | None = "IsUnicode"
    reference: str | None = "RequestId"
    phone_format: Literal["e164", "plus_less", "national"] = Field(
        default="plus_less", description="+84912345678 | 84912345678 | 0912345678"
    )
    unicode_values: tuple[Any, Any] = Field(default=(0, 1), description="(GSM-7 value, UCS-2 value)")
    extra: dict[str, Any] = Field(default_factory=dict, description="Constant fields, e.g. the SmsType")


class HttpResponseMapping(BaseModel):
    """Where the gateway's JSON answer says whether it accepted the message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code_field: str | None = Field(default="CodeResult", description="Dotted path; None: the HTTP status decides")
    success_codes: tuple[str, ...] = ("100",)
    temporary_codes: tuple[str, ...] = Field(default=(), description="Gateway codes worth retrying")
    reference_field: str | None = "SMSID"
    error_field: str | None = "ErrorMessage"


class HttpReceiptMapping(BaseModel):
    """How the gateway's delivery-report callback JSON maps to a DeliveryReceipt."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference_field: str = "SMSID"
    status_field: str = "SendStatus"
    detail_field: str | None = None
    delivered_values: tuple[str, ...] = ("2", "DELIVRD", "delivered", "DELIVERED", "success")
    permanent_values: tuple[str, ...] = ("3", "4", "UNDELIV", "REJECTD", "EXPIRED", "permanent-failure")
    # anything else is a temporary failure


class HttpSettings(_Base):
    kind: Literal["http"] = "http"
    url: str
    method: Literal["POST", "PUT"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict, description="e.g. Authorization: Bearer <key>")
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
    password: str = ""
    system_type: str = ""
    source_addr: str = Field(default="", description="Brandname (alphanumeric) or short code")
    source_addr_ton: int = 5  # alphanumeric
    source_addr_npi: int = 0
    dest_addr_ton: int = 1  # international
    dest_addr_npi: int = 1  # ISDN/E.164
    enquire_link_seconds: float = Field(default=30.0, gt=0)
    response_timeout_seconds: float = Field(default=10.0, gt=0)
    reconnect_delay_seconds: float = Field(default=2.0, gt=0)


ProviderSettings = Annotated[OutboxSettings | HttpSettings | SmppSettings, Field(discriminator="kind")]
_LIST: TypeAdapter[list[ProviderSettings]] = TypeAdapter(list[ProviderSettings])


class FailoverSettings(BaseModel):
    """When the failover provider stops trying a provider, and when it probes it again."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_seconds: float = Field(default=60.0, gt=0, description="Sliding window of recent sends")
    min_requests: int = Field(default=5, ge=1, description="Sends in the window before the rate counts")
    error_rate_threshold: float = Field(default=0.5, gt=0, le=1)
    open_seconds: float = Field(default=30.0, gt=0, description="How long a tripped provider is skipped")


def parse_provider_settings(value: str | list[dict[str, Any]]) -> list[OutboxSettings | HttpSettings | SmppSettings]:
    """`outbox` / `outbox,http`-style names, a YAML or JSON list, `@file.yaml`, or an already-parsed list."""
    if isinstance(value, list):
        return _LIST.validate_python(value)
    text = value.strip()
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    elif not text.startswith(("[", "-", "{")) and ":" not in text:
        return _LIST.validate_python([{"kind": name.strip()} for name in text.split(",") if name.strip()])
    loaded = yaml.safe_load(text)
    if isinstance(loaded, dict):
        loaded = loaded.get("providers", [loaded])
    if not isinstance(loaded, list):
        raise ValueError("provider settings must be a list of providers")
    return _LIST.validate_python(loaded)

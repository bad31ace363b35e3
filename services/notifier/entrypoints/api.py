"""HTTP API of the notifier (thin): notifications (masked phones, Vietnamese labels), receipts, opt-outs,
inbound replies, templates with previews. Notifications and opt-outs need an operator key; receipts and inbound
replies need the provider's token (both checked before the body is read); templates are open."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.contracts.alerts import NotificationStatus
from services.notifier.adapters import queries
from services.notifier.adapters.crypto import PhoneVault
from services.notifier.adapters.providers import InvalidReceipt
from services.notifier.adapters.providers.callback_auth import CallbackTokens
from services.notifier.domain import statuses
from services.notifier.domain.operators import KeySpec
from services.notifier.domain.phones import mask
from services.notifier.domain.sending import DeliveryReceipt
from services.notifier.domain.templates import Template, TemplateSet
from services.notifier.domain.triggers import Triggers
from services.notifier.entrypoints.access import OPERATOR_ERRORS, PROVIDER_ERRORS, operator_guard, provider_guard
from services.notifier.service_layer.optouts import InvalidPhone, OptOuts
from services.runtime.api_keys import KeyStore
from services.runtime.problems import Problem
from services.runtime.query_text import PRINTABLE

NotificationId = Annotated[str, Path(max_length=300, pattern=PRINTABLE)]
ProviderName = Annotated[str, Path(max_length=64, pattern=PRINTABLE, examples=["outbox"], description="As configured")]
# Declared on the provider routes so the docs show it; provider_guard is what checks it.
TOKEN_QUERY = Query(None, description="The provider's token, only if it is configured with receipt_token_in_query")


class NotificationView(BaseModel):
    id: str
    dossier_code: str | None
    template: str
    template_version: int
    event_kind: str
    audience: str
    recipient: str | None = Field(description="Masked phone (09******78); null once purged or never stored")
    recipient_ref: str | None = Field(description="Officer or unit code, for officer reminders")
    status: NotificationStatus
    status_label: str
    reason: str | None
    reason_label: str | None
    detail: str | None
    text: str | None
    encoding: str | None
    segments: int | None
    provider: str | None
    attempts: int
    created_at: datetime
    send_after: datetime | None
    sent_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime


class OptOutRequest(BaseModel):
    phone: Annotated[str, Field(min_length=1, max_length=32)]


class OptOutView(BaseModel):
    phone: str
    opted_out: bool = True
    already: bool
    skipped_waiting: int


class Preview(BaseModel):
    text: str
    encoding: str
    characters: int
    segments: int


class TemplateView(BaseModel):
    id: str
    version: int
    audience: str
    policy: str
    max_segments: int
    worst_case_segments: int
    description: str
    body: str
    placeholders: list[str]
    triggered_by: list[str]
    preview: Preview


@dataclass(frozen=True)
class ApiDependencies:
    sessions: async_sessionmaker[AsyncSession]
    vault: PhoneVault
    templates: TemplateSet
    triggers: Triggers
    optouts: OptOuts
    parse_receipts: Callable[[str, bytes], list[DeliveryReceipt]]
    callback_tokens: CallbackTokens
    apply_receipts: Callable[[Sequence[DeliveryReceipt]], Awaitable[int]]
    operator_keys: KeyStore[KeySpec]


def _view(row: Any, vault: PhoneVault) -> NotificationView:
    status = NotificationStatus(row.status)
    return NotificationView(
        id=row.id,
        dossier_code=row.dossier_code,
        template=row.template_id,
        template_version=row.template_version,
        event_kind=row.event_kind,
        audience=row.audience,
        recipient=mask(vault.decrypt(row.phone_encrypted)),
        recipient_ref=row.recipient_ref,
        status=status,
        status_label=statuses.label(status),
        reason=row.reason,
        reason_label=statuses.reason_label(row.reason),
        detail=row.detail,
        text=row.text,
        encoding=row.encoding,
        segments=row.segments,
        provider=row.provider,
        attempts=row.attempts,
        created_at=row.created_at,
        send_after=row.send_after,
        sent_at=row.sent_at,
        completed_at=row.completed_at,
        updated_at=row.updated_at,
    )


def _inbound_fields(body: bytes) -> tuple[str, str]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Problem(422, "the body is not JSON", errors=[{"field": "(body)", "reason": "not JSON"}]) from None
    if not isinstance(data, dict):
        raise Problem(422, "expected a JSON object", errors=[{"field": "(body)", "reason": "not an object"}])
    sender = next((str(data[k]) for k in ("from", "phone", "msisdn", "sender") if data.get(k)), None)
    text = next((str(data[k]) for k in ("text", "message", "content", "body") if data.get(k) is not None), None)
    if sender is None:
        raise Problem(422, "from is missing", errors=[{"field": "from", "reason": "missing"}])
    if text is None:
        raise Problem(422, "text is missing", errors=[{"field": "text", "reason": "missing"}])
    return sender, text


def build_router(deps: ApiDependencies) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["notifier"])
    operator = [Depends(operator_guard(deps.operator_keys))]
    provider_token = [Depends(provider_guard(deps.callback_tokens))]
    _add_notification_routes(router, deps, operator)
    _add_receipt_routes(router, deps, provider_token)
    _add_optout_routes(router, deps, operator, provider_token)
    _add_template_routes(router, deps)
    return router


def _add_notification_routes(router: APIRouter, deps: ApiDependencies, operator: list[Any]) -> None:
    @router.get(
        "/notifications",
        dependencies=operator,
        responses=OPERATOR_ERRORS,
        summary="Notifications of a dossier (or the latest), phones masked",
    )
    async def list_notifications(
        dossier_code: Annotated[str | None, Query(max_length=256, pattern=PRINTABLE)] = None,
        status: NotificationStatus | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[NotificationView]:
        async with deps.sessions() as session:
            rows = await queries.list_notifications(
                session, dossier_code=dossier_code, status=status.value if status else None, limit=limit
            )
        return [_view(row, deps.vault) for row in rows]

    @router.get(
        "/notifications/{notification_id}",
        dependencies=operator,
        responses=OPERATOR_ERRORS,
        summary="One notification, phone masked",
    )
    async def get_notification(notification_id: NotificationId) -> NotificationView:
        async with deps.sessions() as session:
            row = await queries.get_notification(session, notification_id)
        if row is None:
            raise Problem(404, f"no notification {notification_id}")
        return _view(row, deps.vault)


def _add_receipt_routes(router: APIRouter, deps: ApiDependencies, provider_token: list[Any]) -> None:
    @router.post(
        "/receipts/{provider}",
        dependencies=provider_token,
        responses=PROVIDER_ERRORS,
        summary="Delivery receipts from a provider (one object or an array)",
    )
    async def receipts(provider: ProviderName, request: Request, token: str | None = TOKEN_QUERY) -> dict[str, int]:
        body = await request.body()
        try:
            parsed = deps.parse_receipts(provider, body)
        except InvalidReceipt as error:
            raise Problem(
                422, f"{error.field}: {error.reason}", errors=[{"field": error.field, "reason": error.reason}]
            ) from None
        return {"received": len(parsed), "applied": await deps.apply_receipts(parsed)}


def _add_optout_routes(
    router: APIRouter, deps: ApiDependencies, operator: list[Any], provider_token: list[Any]
) -> None:
    @router.post(
        "/opt-outs",
        status_code=201,
        dependencies=operator,
        responses=OPERATOR_ERRORS,
        summary="Stop every SMS to a phone number (always wins)",
    )
    async def opt_out(request: OptOutRequest) -> OptOutView:
        try:
            result = await deps.optouts.opt_out(request.phone, "api")
        except InvalidPhone as error:
            raise Problem(422, f"phone: {error}", errors=[{"field": "phone", "reason": str(error)}]) from None
        return OptOutView(phone=result.phone_masked, already=not result.created, skipped_waiting=result.skipped_waiting)

    @router.post(
        "/inbound/{provider}",
        dependencies=provider_token,
        responses=PROVIDER_ERRORS,
        summary="A citizen's reply; STOP / HỦY / TỪ CHỐI opts the sender out (the provider's token required)",
    )
    async def inbound(provider: ProviderName, request: Request, token: str | None = TOKEN_QUERY) -> dict[str, Any]:
        sender, text = _inbound_fields(await request.body())
        try:
            result = await deps.optouts.inbound(provider, sender, text)
        except InvalidPhone as error:
            raise Problem(422, f"from: {error}", errors=[{"field": "from", "reason": str(error)}]) from None
        if result is None:
            return {"action": "ignored"}
        return {"action": "opted_out", "phone": result.phone_masked, "skipped_waiting": result.skipped_waiting}


def _add_template_routes(router: APIRouter, deps: ApiDependencies) -> None:
    @router.get("/templates", summary="SMS templates with a preview rendered from sample data")
    async def templates() -> list[TemplateView]:
        kinds: dict[str, list[str]] = {}
        for kind, triggers in deps.triggers.by_kind.items():
            for trigger in triggers:
                kinds.setdefault(trigger.template.id, []).append(kind)
        return [_template_view(template, sorted(kinds.get(template.spec.id, []))) for template in deps.templates]


def _template_view(template: Template, triggered_by: list[str]) -> TemplateView:
    rendered = template.render(template.sample_values())
    spec = template.spec
    return TemplateView(
        id=spec.id,
        version=spec.version,
        audience=spec.audience.value,
        policy=spec.policy.value,
        max_segments=spec.max_segments,
        worst_case_segments=template.worst_case_segments(),
        description=spec.description,
        body=spec.body,
        placeholders=list(template.placeholders),
        triggered_by=triggered_by,
        preview=Preview(
            text=rendered.text,
            encoding=rendered.length.encoding.value,
            characters=rendered.length.characters,
            segments=rendered.length.segments,
        ),
    )

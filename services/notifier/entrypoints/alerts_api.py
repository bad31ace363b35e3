"""`POST /v1/alerts/alertmanager`: Alertmanager's webhook receiver, so an operations alert reaches the officers'
phones as SMS through the same intake as every other alert (quiet hours, daily caps, exactly once per alert
fingerprint and start). Authenticated with an operator key, checked before the body is read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError

from services.notifier.domain.incoming import Incoming
from services.notifier.domain.operators import KeySpec
from services.notifier.entrypoints.access import OPERATOR_ERRORS, operator_guard
from services.notifier.entrypoints.alertmanager import AlertmanagerWebhook, firing_items
from services.runtime.api_keys import KeyStore
from services.runtime.problems import Problem

TakeAlerts = Callable[[Sequence[Incoming]], Awaitable[None]]


def build_alerts_router(operator_keys: KeyStore[KeySpec], take: TakeAlerts) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["notifier"])

    @router.post(
        "/alerts/alertmanager",
        dependencies=[Depends(operator_guard(operator_keys))],
        responses=OPERATOR_ERRORS,
        summary="Alertmanager webhook: each firing alert becomes one SMS to the officers (once per fingerprint "
        "and startsAt)",
    )
    async def alertmanager(request: Request) -> dict[str, int]:
        try:
            payload = AlertmanagerWebhook.model_validate_json(await request.body())
        except ValidationError as error:
            errors = [
                {"field": ".".join(str(part) for part in item["loc"]) or "body", "reason": item["msg"]}
                for item in error.errors()[:20]
            ]
            raise Problem(422, f"{errors[0]['field']}: {errors[0]['reason']}", errors=errors) from None
        items = firing_items(payload)
        if items:
            await take(items)
        return {"received": len(payload.alerts), "firing": len(items)}

    return router

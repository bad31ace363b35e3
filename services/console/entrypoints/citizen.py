"""/tra-cuu: a citizen enters the dossier code and the last four digits of the phone on the dossier. The notifier,
which alone holds the phone, says whether they match; only then the console reads the dossier and its timeline
from the indicators API and shows the citizen view. A wrong combination says only "không tìm thấy". Attempts
are limited per client address (here, the only service that sees it) and per dossier code (here and in the
notifier)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.console.adapters.upstream import Upstreams
from services.console.domain.citizen_view import citizen_view
from services.console.entrypoints.forms import form_fields
from services.runtime.attempts import AttemptLimiter

NOT_FOUND = "Không tìm thấy hồ sơ với mã và 4 số cuối điện thoại này."
TOO_MANY = "Ông/bà đã tra cứu quá nhiều lần. Vui lòng thử lại sau ít phút."
UNAVAILABLE = "Hệ thống tra cứu đang bận. Vui lòng thử lại sau."


def build_citizen_router(
    templates: Jinja2Templates,
    upstreams: Upstreams,
    notifier_key: str,
    timezone: str,
    per_client: AttemptLimiter,
    per_dossier: AttemptLimiter,
) -> APIRouter:
    router = APIRouter()

    def page(request: Request, status: int = 200, **context: object) -> HTMLResponse:
        return templates.TemplateResponse(request, "lookup.html", {"timezone": timezone, **context}, status)

    @router.get("/tra-cuu", include_in_schema=False)
    async def lookup_form(request: Request) -> HTMLResponse:
        return page(request, code=request.query_params.get("ma", "")[:64])

    @router.post("/tra-cuu", include_in_schema=False)
    async def lookup(request: Request) -> HTMLResponse:
        fields = await form_fields(request, {"ma": 256, "so": 32})
        code, last4 = fields["ma"], fields["so"]
        client = request.client.host if request.client else "unknown"
        if per_client.retry_after(client) is not None or per_dossier.retry_after(code) is not None:
            return page(request, 429, code=code, error=TOO_MANY)
        per_client.record(client)
        per_dossier.record(code)
        if not code or len(last4) != 4 or not last4.isdigit():
            return page(request, 404, code=code, error=NOT_FOUND)
        answer = await upstreams.call(
            "notifier", "POST", "/v1/lookup", key=notifier_key, json={"dossier_code": code, "phone_last4": last4}
        )
        if answer.status == 429:
            return page(request, 429, code=code, error=TOO_MANY)
        if answer.status != 200:
            return page(request, 404 if answer.status == 404 else 503, code=code, error=_error_of(answer.status))
        dossier = await upstreams.call("indicators", "GET", f"/v1/dossiers/{quote(code, safe='')}")
        timeline = await upstreams.call("indicators", "GET", f"/v1/dossiers/{quote(code, safe='')}/events")
        if dossier.status != 200 or not isinstance(dossier.body, dict):
            return page(request, 404, code=code, error=NOT_FOUND)
        events = timeline.body if timeline.status == 200 and isinstance(timeline.body, dict) else {}
        return page(request, code=code, view=citizen_view(dossier.body, events, timezone))

    return router


def _error_of(status: int) -> str:
    return NOT_FOUND if status == 404 else UNAVAILABLE

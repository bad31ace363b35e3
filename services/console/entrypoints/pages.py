"""The operator console: sign-in with a tasks key, the dashboard page, a dossier's timeline page, and the
read-only JSON the page polls, passed through from the services' own APIs (nothing is computed here)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.security import APIKeyCookie
from fastapi.templating import Jinja2Templates

from services.console.adapters.sessions import COOKIE, SessionStore
from services.console.adapters.upstream import Upstreams
from services.console.entrypoints.forms import form_fields
from services.runtime.problems import Problem

# What the page may read, per service: GET only, these paths only.
READABLE = {
    "indicators": re.compile(r"/v1/(indicators|leaderboard|alerts|fields|dossiers/[^/]{1,256}(/events)?)"),
    "tasks": re.compile(r"/v1/(plan/indicators|tasks)"),
    "notifier": re.compile(r"/v1/notifications"),
}
MAX_PARAMS = 20


PageRenderer = Callable[..., HTMLResponse]  # (request, template name, status=200, **context)


@dataclass(frozen=True)
class ConsoleConfig:
    refresh_seconds: float
    docs_links: dict[str, str]
    secure_cookies: bool
    session_seconds: float
    timezone: str
    notifier_key: str  # the console's own operator key: notifications show masked phones only


def build_console_router(
    templates: Jinja2Templates, upstreams: Upstreams, sessions: SessionStore, config: ConsoleConfig
) -> APIRouter:
    router = APIRouter()
    cookie = APIKeyCookie(
        name=COOKIE, scheme_name="consoleSession", auto_error=False, description="Sign in at /dang-nhap"
    )

    def operator_key(token: str | None = Depends(cookie)) -> str:
        key = sessions.key_of(token)
        if key is None:
            raise Problem(401, "chưa đăng nhập hoặc phiên đã hết hạn: đăng nhập tại /dang-nhap")
        return key

    def page(request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
        values = {"docs_links": config.docs_links, "timezone": config.timezone, **context}
        return templates.TemplateResponse(request, name, values, status)

    _pages(router, page, sessions, config)
    _session_routes(router, page, upstreams, sessions, config)
    _pass_through(router, upstreams, config, operator_key)
    return router


def _pages(router: APIRouter, page: PageRenderer, sessions: SessionStore, config: ConsoleConfig) -> None:
    @router.get("/", include_in_schema=False, response_model=None)
    async def console(request: Request) -> Response:
        if sessions.key_of(request.cookies.get(COOKIE)) is None:
            return RedirectResponse("/dang-nhap", status_code=303)
        return page(request, "console.html", refresh_ms=int(config.refresh_seconds * 1000))

    @router.get("/ho-so/{code}", include_in_schema=False, response_model=None)
    async def dossier_page(request: Request, code: str) -> Response:
        if sessions.key_of(request.cookies.get(COOKIE)) is None:
            return RedirectResponse("/dang-nhap", status_code=303)
        return page(request, "dossier.html", code=code[:256])


def _session_routes(
    router: APIRouter, page: PageRenderer, upstreams: Upstreams, sessions: SessionStore, config: ConsoleConfig
) -> None:
    @router.get("/dang-nhap", include_in_schema=False)
    async def sign_in_form(request: Request) -> HTMLResponse:
        return page(request, "login.html")

    @router.post("/dang-nhap", include_in_schema=False, response_model=None)
    async def sign_in(request: Request) -> Response:
        key = (await form_fields(request, {"key": 200}))["key"]
        answer = await upstreams.call("tasks", "GET", "/v1/plan/indicators", key=key or None)
        if answer.status != 200:
            message = "Khóa không hợp lệ." if answer.status in (401, 403) else "Không kết nối được dịch vụ."
            return page(request, "login.html", status=401 if answer.status in (401, 403) else 502, error=message)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE,
            sessions.open(key),
            max_age=int(config.session_seconds),
            httponly=True,
            samesite="strict",
            secure=config.secure_cookies,
        )
        return response

    @router.post("/dang-xuat", include_in_schema=False)
    async def sign_out(request: Request) -> RedirectResponse:
        sessions.close(request.cookies.get(COOKIE))
        response = RedirectResponse("/dang-nhap", status_code=303)
        response.delete_cookie(COOKIE)
        return response


def _pass_through(
    router: APIRouter, upstreams: Upstreams, config: ConsoleConfig, operator_key: Callable[..., str]
) -> None:
    @router.get(
        "/api/{service}/{path:path}",
        summary="Read-only pass-through to an allowed GET of the indicators, tasks or notifier API",
        responses={401: {"description": "Not signed in"}, 404: {"description": "Not a readable path"}},
    )
    async def read(
        request: Request,
        service: Literal["indicators", "tasks", "notifier"],
        path: str,
        key: str = Depends(operator_key),
    ) -> JSONResponse:
        upstream_path = "/" + path
        if len(path) > 300 or not READABLE[service].fullmatch(upstream_path):
            raise Problem(404, f"path: {service} {upstream_path!r} is not readable from the console")
        params = request.query_params.multi_items()[:MAX_PARAMS]
        own_key = config.notifier_key if service == "notifier" else key
        answer = await upstreams.call(service, "GET", quote(upstream_path), params=dict(params), key=own_key)
        if answer.status == 502:
            raise Problem(502, f"không kết nối được dịch vụ {service}")
        return JSONResponse(answer.body, status_code=answer.status)

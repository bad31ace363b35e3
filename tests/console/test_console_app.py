"""The console without a browser: it refuses to start without its notifier key, reads only allowed paths, signs
in only with a key the tasks service accepts, and the citizen view says things in plain Vietnamese."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from services.console.bootstrap import create_app
from services.console.domain.citizen_view import citizen_view
from services.console.settings import MissingLookupKey, Settings
from services.runtime.attempts import AttemptLimiter

UNREACHABLE = "http://127.0.0.1:9"


def console(tmp_path: Path, **overrides: object) -> FastAPI:
    values: dict[str, object] = {
        "var_dir": tmp_path,
        "notifier_key": SecretStr("dvcnk_console"),
        "indicators_url": UNREACHABLE,
        "tasks_url": UNREACHABLE,
        "notifier_url": UNREACHABLE,
    }
    return create_app(Settings(**(values | overrides)))  # type: ignore[arg-type]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=console(tmp_path), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as http:
        yield http


def test_console_refuses_to_start_when_no_notifier_key_is_configured(tmp_path: Path) -> None:
    with pytest.raises(MissingLookupKey, match="DVC_CONSOLE_NOTIFIER_KEY"):
        console(tmp_path, notifier_key=None)


async def test_pages_answer_in_vietnamese_when_nobody_is_signed_in(client: httpx.AsyncClient) -> None:
    root = await client.get("/")
    sign_in = await client.get("/dang-nhap")
    lookup = await client.get("/tra-cuu")
    api = await client.get("/api/indicators/v1/indicators")

    assert (root.status_code, root.headers["location"]) == (303, "/dang-nhap")
    assert '<html lang="vi">' in sign_in.text
    assert '<label for="key">Khóa truy cập</label>' in sign_in.text
    assert '<label for="so">4 số cuối điện thoại</label>' in lookup.text
    assert (api.status_code, api.headers["content-type"]) == (401, "application/problem+json")


async def test_sign_in_is_refused_with_a_page_when_the_tasks_service_cannot_be_reached(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post("/dang-nhap", data={"key": "dvctk_anything"})

    assert answer.status_code == 502
    assert "Không kết nối được dịch vụ." in answer.text
    assert "set-cookie" not in answer.headers


async def test_lookup_says_not_found_without_asking_when_the_suffix_is_not_four_digits(
    client: httpx.AsyncClient,
) -> None:
    short = await client.post("/tra-cuu", data={"ma": "HS-1", "so": "12"})
    broken = await client.post("/tra-cuu", content=b"ma=%ZZ&so=\xff\xfe", headers={"content-type": "text/plain"})

    assert short.status_code == 404
    assert "Không tìm thấy hồ sơ với mã và 4 số cuối điện thoại này." in short.text
    assert broken.status_code == 404


async def test_lookup_is_limited_per_dossier_code_when_attempts_repeat(tmp_path: Path) -> None:
    app = console(tmp_path, lookup_attempts_per_dossier=2)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as http:
        answers = [(await http.post("/tra-cuu", data={"ma": "HS-9", "so": "12"})).status_code for _ in range(3)]
        other = await http.post("/tra-cuu", data={"ma": "HS-10", "so": "12"})

    assert answers == [404, 404, 429]
    assert other.status_code == 404


async def test_docs_are_served_without_a_cdn_when_opened(client: httpx.AsyncClient) -> None:
    swagger = await client.get("/docs")
    redoc = await client.get("/redoc")
    script = await client.get("/docs-assets/redoc-offline.js")
    bundle = await client.get("/docs-assets/swagger-ui-bundle.js")

    for page in (swagger, redoc):
        assert page.status_code == 200
        assert "https://" not in page.text
    assert b"cdn.redoc.ly" not in script.content
    assert (script.status_code, bundle.status_code) == (200, 200)


def test_citizen_view_shows_a_new_date_with_its_reason_when_the_dossier_was_rescheduled() -> None:
    dossier = {
        "dossier_code": "HS-1",
        "status": "paused",
        "due": {"original": "2026-03-05T10:00:00Z", "rescheduled": "2026-03-09T10:00:00Z"},
    }
    timeline = {
        "events": [
            {"type": "dossier.accepted", "time": "2026-03-02T01:15:00Z", "details": {"due_at": "2026-03-05T10:00:00Z"}},
            {
                "type": "dossier.rescheduled",
                "time": "2026-03-04T03:00:00Z",
                "details": {"new_due_at": "2026-03-09T10:00:00Z", "reason": "Chờ xác minh", "officer": "CB-001"},
            },
        ]
    }

    view = citizen_view(dossier, timeline, "Asia/Ho_Chi_Minh")

    assert view.status == "Tạm dừng: chờ ông/bà bổ sung giấy tờ hoặc nộp phí"
    assert [(step.label, step.at) for step in view.steps] == [
        ("Tiếp nhận hồ sơ", "08:15 ngày 02/03/2026"),
        ("Hẹn lại ngày trả kết quả", "10:00 ngày 04/03/2026"),
    ]
    assert (view.due, view.new_due, view.new_due_reason) == ("05/03/2026", "09/03/2026", "Chờ xác minh")
    assert "CB-001" not in str(view)


def test_attempt_limiter_frees_a_key_when_its_window_has_passed() -> None:
    now = [0.0]
    limiter = AttemptLimiter(2, 60.0, max_keys=2, clock=lambda: now[0])
    limiter.record("a")
    limiter.record("a")
    blocked = limiter.retry_after("a")
    now[0] = 61.0

    assert blocked == 60.0
    assert limiter.retry_after("a") is None

"""The console in a real browser against the running services: the numbers are the APIs' numbers, the filters
change them, live refresh picks up a new event, and signing in is needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.factories import dossier_event
from tests.web.conftest import Web

pytestmark = pytest.mark.e2e
VN = ZoneInfo("Asia/Ho_Chi_Minh")  # the console's periods are the centre's calendar, whatever the browser's


def percent(value: float | None) -> str:
    """As the console shows the API's percent (0-100): one decimal, a tie rounded up as people round (6.25 is
    6,3%; Python's format would round it to even, 6,2%). Decimal(value) is the float's exact value, as the
    browser's toFixed reads it."""
    if value is None:
        return "–"
    return f"{Decimal(value).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%".replace(".", ",")


def rows_of(driver: webdriver.Chrome, selector: str, cells: str) -> list[list[str]]:
    """The texts of `cells` within each element matching `selector`, read in one script (the page redraws every
    two seconds, so elements found one call earlier may be gone)."""
    script = (
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".map(r => Array.from(r.querySelectorAll(arguments[1])).map(c => c.textContent.trim()));"
    )
    rows: list[list[str]] = driver.execute_script(script, selector, cells)
    return rows


def card_texts(driver: webdriver.Chrome) -> dict[str, tuple[str, str]]:
    """code -> (value, numerator / denominator) as the page shows them."""
    return {row[0]: (row[1], row[2]) for row in rows_of(driver, "#cards .card", "h3, .value, .ratio")}


def api_texts(web: Web, **params: str) -> dict[str, tuple[str, str]]:
    rows = web.api("indicators", "/v1/indicators", **params)
    return {row["code"]: (percent(row["value"]), f"{row['numerator']} / {row['denominator']}") for row in rows}


def this_year() -> dict[str, str]:
    year = datetime.now(VN).year
    return {"from": f"{year}-01-01", "to": f"{year + 1}-01-01"}


def wait_for_api_values(driver: webdriver.Chrome, web: Web, **params: str) -> None:
    """Until the cards show what the API answers for `params` (the page refreshes every 2 s); a failure names the
    cards that differ."""
    seen: dict[str, dict[str, tuple[str, str]]] = {}

    def same(d: webdriver.Chrome) -> bool:
        seen["page"], seen["api"] = card_texts(d), api_texts(web, **params)
        return seen["page"] == seen["api"]

    try:
        WebDriverWait(driver, 30).until(same)
    except TimeoutException:
        page, api = seen.get("page", {}), seen.get("api", {})
        differing = {
            code: (page.get(code), api.get(code))
            for code in page.keys() | api.keys()
            if page.get(code) != api.get(code)
        }
        raise AssertionError(f"cards (page, API) differ for {params}: {differing}") from None


def test_console_shows_the_apis_numbers_when_signed_in(web: Web, driver: webdriver.Chrome) -> None:
    web.sign_in(driver)
    wait_for_api_values(driver, web, **this_year())
    cards = card_texts(driver)
    assert {"I15", "I20", "I25", "ONTIME", "SAT", "LATE_NO_APOLOGY"} <= set(cards)
    badges = {row[0]: row[1] for row in rows_of(driver, "#cards .card", "h3, .badge")}
    statuses = {row["code"]: row["status"] for row in web.api("indicators", "/v1/indicators", **this_year())}
    labels = {"met": "Đạt", "not_met": "Chưa đạt", "no_data": "Chưa có số liệu", "no_target": "Không có chỉ tiêu"}
    assert badges == {code: labels[status] for code, status in statuses.items()}  # text, not colour alone
    ranking = web.api("indicators", "/v1/leaderboard", by="officer", **this_year())
    shown = [row[:3] for row in rows_of(driver, "#rank-officer tbody tr", "td")]
    assert shown == [[str(r["rank"]) if r["rank"] else "–", r["key"], str(r["handled"])] for r in ranking["rows"]]
    alerts = web.api("indicators", "/v1/alerts", limit="100")
    links = [row[0] for row in rows_of(driver, "#alerts tbody tr", "a") if row]
    assert links == [item["dossier_code"] for item in alerts["items"]]
    assert links != []
    plan_numbers = [row[0] for row in rows_of(driver, "#plan tbody tr", "td")]
    assert plan_numbers == [str(row["number"]) for row in web.api("tasks", "/v1/plan/indicators")]
    assert len(plan_numbers) == 38
    task_ids = [row[0] for row in rows_of(driver, "#tasks tbody tr", "td")]
    assert task_ids == [row["id"] for row in web.api("tasks", "/v1/tasks")]


def test_console_numbers_follow_the_filters_when_an_agency_and_period_are_chosen(
    web: Web, driver: webdriver.Chrome
) -> None:
    web.sign_in(driver)
    agency = web.api("indicators", "/v1/leaderboard", by="agency", **this_year())["rows"][0]["key"]
    options = "return Array.from(document.querySelectorAll('#f-agency option')).map(o => o.value);"
    WebDriverWait(driver, 20).until(lambda d: agency in d.execute_script(options))
    Select(driver.find_element(By.ID, "f-agency")).select_by_value(agency)
    wait_for_api_values(driver, web, agency=agency, **this_year())
    assert api_texts(web, agency=agency, **this_year()) != api_texts(web, **this_year())

    Select(driver.find_element(By.ID, "f-period")).select_by_value("month")
    now = datetime.now(VN)
    month = {"from": f"{now:%Y-%m}-01", "to": (now.replace(day=28) + timedelta(days=4)).strftime("%Y-%m-01")}
    wait_for_api_values(driver, web, agency=agency, **month)


def test_console_picks_up_a_new_event_when_it_arrives_without_reloading(web: Web, driver: webdriver.Chrome) -> None:
    web.sign_in(driver)
    wait_for_api_values(driver, web, **this_year())
    driver.execute_script("window.__same_page = true;")
    before = card_texts(driver)["I20"]
    now = datetime.now(UTC)
    web.system.post(
        [
            dossier_event(
                "dossier.accepted",
                "000.00.30.H04-WEB-LIVE",
                time=now.isoformat(),
                due_at=(now + timedelta(days=3)).isoformat(),
                channel="online",
                event_id="web-live/accepted",
            )
        ]
    )
    WebDriverWait(driver, 30).until(lambda d: card_texts(d)["I20"] != before)
    wait_for_api_values(driver, web, **this_year())
    assert driver.execute_script("return window.__same_page === true;")


def test_console_asks_for_a_key_when_not_signed_in(web: Web) -> None:
    page = httpx.get(f"{web.url}/", follow_redirects=False, timeout=10)
    assert (page.status_code, page.headers["location"]) == (303, "/dang-nhap")
    data = httpx.get(f"{web.url}/api/indicators/v1/indicators", timeout=10)
    assert data.status_code == 401
    wrong = httpx.post(f"{web.url}/dang-nhap", data={"key": "dvctk_wrong"}, timeout=10)
    assert wrong.status_code == 401
    assert "Khóa không hợp lệ." in wrong.text


def test_console_reads_only_allowed_paths_when_signed_in(web: Web) -> None:
    with httpx.Client(base_url=web.url, timeout=10) as client:
        signed_in = client.post("/dang-nhap", data={"key": web.system.tasks_key})
        same = client.get("/api/indicators/v1/fields")
        audit = client.get("/api/tasks/v1/audit")  # who changed what: not for the console
        write_path = client.get("/api/tasks/v1/tasks/III.1/reports")
        signed_out = client.post("/dang-xuat")
        after = client.get("/api/indicators/v1/fields")

    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/")
    assert same.json() == web.api("indicators", "/v1/fields")
    assert [audit.status_code, write_path.status_code] == [404, 404]
    assert signed_out.status_code == 303
    assert after.status_code == 401

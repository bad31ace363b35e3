"""The browser tests' system: the four services and the console as processes (tests/e2e/system.py), fed by the
simulator, and one headless chromium. Skipped with the reason when Debian's chromium or chromedriver is absent."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from services.runtime.nats.embedded import free_port
from tests.e2e.processes import ServiceProcess, base_env, run_cli, wait_for
from tests.e2e.system import SERVICE_SETTINGS, System
from tests.factories import dossier_event
from tests.web.browser import DESKTOP, close, missing_browser, start_chromium

LOOKUP_CODE = "000.00.30.H04-WEB-0001"
OVERDUE_CODE = "000.00.30.H04-WEB-0002"
LOOKUP_PHONE = "0912345678"  # tests/factories.py's applicant
# A short window keeps the browser tests quick; `make screenshots` asks for a longer one (more dossiers at risk).
SIMULATED_DAYS = int(os.environ.get("DVC_WEB_SIMULATED_DAYS", "3"))


@dataclass
class Web:
    system: System
    console: ServiceProcess

    @property
    def url(self) -> str:
        return self.console.url

    def api(self, service: str, path: str, **params: str) -> Any:
        headers = {"Authorization": f"Bearer {self.system.tasks_key}"} if service == "tasks" else {}
        answer = httpx.get(self.system.url(service, path), params=params, headers=headers, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def sign_in(self, driver: webdriver.Chrome) -> None:
        driver.get(f"{self.url}/dang-nhap")
        driver.find_element(By.ID, "key").send_keys(self.system.tasks_key)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#cards .card"))


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("web")
    urls = {name: f"sqlite+aiosqlite:///{root / f'{name}.db'}" for name in ("indicators", "tasks", "notifier")}
    system = System(root, urls)
    console: ServiceProcess | None = None
    try:
        with pytest.MonkeyPatch.context() as patch:  # the early-warning sweep every 2 s, not 30: alerts at once
            fast = {**SERVICE_SETTINGS["indicators"], "DVC_INDICATORS_WARNING_INTERVAL_SECONDS": "2"}
            patch.setitem(SERVICE_SETTINGS, "indicators", fast)
            system.start()
        console = _start_console(system, root)
        _feed(system, root)
        yield Web(system, console)
    finally:
        if console is not None:
            console.stop()
        system.stop()


@pytest.fixture(scope="session")
def driver(web: Web) -> Iterator[webdriver.Chrome]:
    browser = start_chromium(*DESKTOP)
    try:
        yield browser
    finally:
        close(browser)


def _start_console(system: System, root: Path) -> ServiceProcess:
    port = free_port()
    env = base_env(
        system.var_dir,
        DVC_CONSOLE_PORT=str(port),
        DVC_CONSOLE_INDICATORS_URL=system.services["indicators"].url,
        DVC_CONSOLE_TASKS_URL=system.services["tasks"].url,
        DVC_CONSOLE_NOTIFIER_URL=system.services["notifier"].url,
        DVC_CONSOLE_INGEST_URL=system.services["ingest"].url,
        DVC_CONSOLE_NOTIFIER_KEY=system.operator_key,
        DVC_CONSOLE_REFRESH_SECONDS="2",
    )
    console = ServiceProcess("console", port, env, root / "logs" / "console.log")
    console.start()
    console.wait_ready()
    return console


def _feed(system: System, root: Path) -> None:
    """A few simulated days up to now, one dossier of our own whose phone the lookup test knows and one overdue."""
    now = datetime.now(UTC)
    events_file = root / "events.ndjson"
    run_cli(
        base_env(system.var_dir),
        "simulate",
        "--seed",
        "57",
        "--start",
        (now - timedelta(days=SIMULATED_DAYS)).isoformat(),
        "--end",
        now.isoformat(),
        "--out",
        str(events_file),
    )
    events = [orjson.loads(line) for line in events_file.read_bytes().splitlines() if line.strip()]
    for start in range(0, len(events), 500):
        system.post(events[start : start + 500])
    accepted = dossier_event(
        "dossier.accepted",
        LOOKUP_CODE,
        time=(now - timedelta(hours=2)).isoformat(),
        due_at=(now + timedelta(days=3)).isoformat(),
        event_id="web-0001/accepted",
    )
    # overdue whatever the hour: the simulated days alone leave no late open dossier at some times of day
    overdue = dossier_event(
        "dossier.accepted",
        OVERDUE_CODE,
        time=(now - timedelta(days=2)).isoformat(),
        due_at=(now - timedelta(hours=1)).isoformat(),
        event_id="web-0002/accepted",
    )
    system.post([accepted, overdue])
    wait_for(system.consumers_idle, 60, "every consumer to catch up")
    # the contact is stored with the dossier's first notification (polling the lookup would spend its attempts)
    wait_for(lambda: system.notifications(dossier_code=LOOKUP_CODE), 30, "the notifier to hold the contact")
    alerts = system.url("indicators", "/v1/alerts")
    wait_for(lambda: httpx.get(alerts, timeout=10).json()["count"], 30, "overdue or at-risk dossiers")

"""Headless Debian chromium through /usr/bin/chromedriver (Selenium), with the DevTools performance log on so a
test can list every URL the page requested."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
from pathlib import Path
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.e2e.processes import child_pids

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DESKTOP = (1366, 768)
PHONE = (390, 844)


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        return "Debian package `chromium` is not installed (`.ci/run tools` or apt-get install chromium)"
    if not CHROMEDRIVER.exists() and shutil.which("chromedriver") is None:
        return "Debian package `chromium-driver` is not installed (`.ci/run tools` or apt-get install chromium-driver)"
    return None


def start_chromium(width: int, height: int) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=vi-VN",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver_path = CHROMEDRIVER if CHROMEDRIVER.exists() else Path(shutil.which("chromedriver") or "")
    driver = webdriver.Chrome(options=options, service=Service(str(driver_path)))
    driver.set_page_load_timeout(30)
    return driver


def close(driver: webdriver.Chrome, patience: float = 30.0) -> None:
    """Quit the browser; if chromedriver or chromium does not answer within `patience` seconds, kill them (a hung
    browser must not hold the session's teardown until the test timeout)."""
    quitting = threading.Thread(target=driver.quit, daemon=True)
    quitting.start()
    quitting.join(patience)
    process = driver.service.process
    if not quitting.is_alive() or process is None:
        return
    for pid in [*child_pids(process.pid), process.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def requested_urls(driver: webdriver.Chrome) -> list[str]:
    """URLs the page sent requests to since the last call (DevTools Network.requestWillBeSent)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(str(message["params"]["request"]["url"]))
    return urls


def outside_localhost(urls: list[str]) -> list[str]:
    local = {"127.0.0.1"}
    return [
        url for url in urls if not url.startswith("data:") and urlsplit(url.removeprefix("blob:")).hostname not in local
    ]

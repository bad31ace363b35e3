"""`make screenshots`: PNGs of each page at desktop (1366x768 office screen) and phone width, into the folder
named by DVC_SCREENSHOTS (docs/screenshots/). Skipped in `make test`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.web.browser import DESKTOP, PHONE, close, start_chromium
from tests.web.conftest import LOOKUP_CODE, LOOKUP_PHONE, Web
from tests.web.test_lookup import look_up

pytestmark = pytest.mark.e2e
TARGET = os.environ.get("DVC_SCREENSHOTS", "")


def full_page(driver: webdriver.Chrome, path: Path, width: int) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(int(height) + 100, 4000))
    driver.save_screenshot(str(path))


@pytest.mark.skipif(not TARGET, reason="only `make screenshots` (DVC_SCREENSHOTS=docs/screenshots) writes them")
@pytest.mark.parametrize(("size", "size_name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_screenshots_are_written_when_asked(web: Web, size: tuple[int, int], size_name: str) -> None:
    folder = Path(TARGET)
    folder.mkdir(parents=True, exist_ok=True)
    driver = start_chromium(*size)

    def console(d: webdriver.Chrome) -> None:
        web.sign_in(d)
        WebDriverWait(d, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#plan tbody tr"))

    def dossier(d: webdriver.Chrome) -> None:
        d.get(f"{web.url}/ho-so/{LOOKUP_CODE}")
        WebDriverWait(d, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#dossier-events tbody tr"))

    pages: dict[str, Callable[[webdriver.Chrome], None]] = {
        "console": console,
        "dossier": dossier,
        "lookup": lambda d: look_up(d, web, LOOKUP_CODE, LOOKUP_PHONE[-4:]),
        "lookup-not-found": lambda d: look_up(d, web, LOOKUP_CODE, "0000"),
    }
    try:
        for name, open_page in pages.items():
            driver.set_window_size(*size)
            open_page(driver)
            full_page(driver, folder / f"{name}-{size_name}.png", size[0])
    finally:
        close(driver)

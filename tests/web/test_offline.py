"""Every page (console, dossier timeline, citizen lookup, each service's /docs and /redoc) renders from assets
served by the services themselves: the browser's DevTools log lists no request leaving 127.0.0.1."""

from __future__ import annotations

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.web.browser import outside_localhost, requested_urls
from tests.web.conftest import LOOKUP_CODE, Web

pytestmark = pytest.mark.e2e


def test_no_request_leaves_localhost_when_every_page_and_api_doc_loads(web: Web, driver: webdriver.Chrome) -> None:
    requested_urls(driver)  # forget what earlier tests loaded
    web.sign_in(driver)
    driver.get(f"{web.url}/ho-so/{LOOKUP_CODE}")
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#dossier-events tbody tr"))
    assert "Tiếp nhận" in driver.find_element(By.ID, "dossier-events").text
    assert "09******78" in driver.find_element(By.ID, "dossier-facts").text  # the masked phone only
    driver.get(f"{web.url}/tra-cuu")
    seen = requested_urls(driver)
    for service in [*web.system.services.values(), web.console]:
        driver.get(f"{service.url}/docs")
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title"))
        driver.get(f"{service.url}/redoc")
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".api-content h1"))
        seen += requested_urls(driver)
    assert any(url.endswith("/docs-assets/swagger-ui-bundle.js") for url in seen)
    assert any(url.endswith("/docs-assets/redoc-offline.js") for url in seen)
    assert outside_localhost(seen) == []


def test_console_links_to_each_services_api_docs_when_signed_in(web: Web, driver: webdriver.Chrome) -> None:
    web.sign_in(driver)
    links = {a.text: a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "nav .docs a")}
    assert links == {name: f"{service.url}/docs" for name, service in web.system.services.items()}

"""The citizen lookup in a real browser: the right code and phone suffix show the dossier in plain Vietnamese,
a wrong suffix shows only "không tìm thấy"."""

from __future__ import annotations

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

from tests.web.conftest import LOOKUP_CODE, LOOKUP_PHONE, Web

pytestmark = pytest.mark.e2e


def look_up(driver: webdriver.Chrome, web: Web, code: str, last4: str) -> None:
    driver.get(f"{web.url}/tra-cuu")
    driver.find_element(By.ID, "ma").send_keys(code)
    driver.find_element(By.ID, "so").send_keys(last4)
    form_page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, "#lookup-form button").click()
    WebDriverWait(driver, 20).until(staleness_of(form_page))  # the answer page replaced the form
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#lookup-result, #lookup-error"))


def test_lookup_shows_the_dossier_when_the_phone_suffix_is_right(web: Web, driver: webdriver.Chrome) -> None:
    look_up(driver, web, LOOKUP_CODE, LOOKUP_PHONE[-4:])
    result = driver.find_element(By.ID, "lookup-result")
    assert driver.find_element(By.ID, "citizen-status").text == "Đã tiếp nhận, đang giải quyết"
    steps = [step.text for step in driver.find_elements(By.CSS_SELECTOR, "#citizen-steps li")]
    assert len(steps) == 1
    assert "Tiếp nhận hồ sơ" in steps[0]
    assert "Hẹn trả kết quả ngày" in steps[0]
    assert "Cách nhận kết quả" in result.text
    assert "Nguyễn" not in driver.page_source  # nothing else about the dossier: no name, no phone
    assert LOOKUP_PHONE not in driver.page_source


def test_lookup_says_only_not_found_when_the_phone_suffix_is_wrong(web: Web, driver: webdriver.Chrome) -> None:
    look_up(driver, web, LOOKUP_CODE, "0000")
    assert driver.find_element(By.ID, "lookup-error").text == (
        "Không tìm thấy hồ sơ với mã và 4 số cuối điện thoại này."
    )
    assert not driver.find_elements(By.ID, "lookup-result")

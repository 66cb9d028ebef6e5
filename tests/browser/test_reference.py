"""`/docs` in a real browser: Swagger UI renders every operation of `/openapi.json` from files the gateway serves
itself, with no console error, no token, and nothing fetched from another origin."""

from __future__ import annotations

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import chromium

pytestmark = [pytest.mark.kafka, pytest.mark.browser]

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def test_reference_lists_every_operation_without_console_errors(browser: WebDriver, gateway_url: str) -> None:
    document = httpx.get(f"{gateway_url}/openapi.json").json()
    expected = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item if method in HTTP_METHODS
    }

    browser.get(f"{gateway_url}/docs")
    WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(expected))
    shown = {
        (
            block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text.strip(),
            block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path"),
        )
        for block in browser.find_elements(By.CSS_SELECTOR, ".opblock")
    }
    assert shown == expected
    assert document["info"]["title"] in browser.find_element(By.CSS_SELECTOR, ".info .title").text
    # The bearer scheme is offered for "Try it out".
    assert browser.find_elements(By.CSS_SELECTOR, "button.authorize")

    assert chromium.console_errors(browser) == []
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded, "the page loaded no assets"
    assert [url for url in loaded if not url.startswith(gateway_url)] == []
    chromium.screenshot(browser, "api-reference")

"""Fixtures of the browser tests: a headless Chromium (skipped with the reason when it is not installed, failed
instead when KAFKAGATE_REQUIRE_BROWSER=1, as on CI) and a real gateway process to point it at."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver

from tests.browser import chromium
from tests.integration.serving import served_gateway, wait_ready

ROOT_TOKEN = "kg_browser_root_" + "b" * 40


@pytest.fixture(scope="session")
def browser_installed() -> None:
    reason = chromium.missing()
    if reason is not None:
        if chromium.required():
            pytest.fail(f"{chromium.REQUIRE}=1 but {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def browser(browser_installed: None) -> Iterator[WebDriver]:
    with chromium.chromium() as driver:
        yield driver


@pytest.fixture(scope="session")
def gateway_url(
    browser_installed: None, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A `kafkagate serve` process that requires bearer tokens (ROOT_TOKEN is its root credential).

    The browser tests are synchronous (Selenium blocks), so this fixture and the tests run outside the event loop.
    """
    log = tmp_path_factory.mktemp("browser-gateway") / "gateway.log"
    env = {"KAFKAGATE_AUTH": "required", "KAFKAGATE_ADMIN_TOKEN": ROOT_TOKEN, "KAFKAGATE_ACCESS_LOG": "false"}
    with served_gateway(kafka_bootstrap, log, env) as (process, url):
        asyncio.run(wait_ready(process, url, log))
        yield url

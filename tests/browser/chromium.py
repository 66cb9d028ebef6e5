"""Debian's chromium driven through Debian's chromedriver (`make browser` installs both), for tests that need a
real browser. The paths are explicit, so Selenium never runs Selenium Manager (which would try to download a
driver); the flags keep Chromium off the network except for the pages a test opens."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Set by .ci/run: a missing browser fails the browser tests instead of skipping them.
REQUIRE = "KAFKAGATE_REQUIRE_BROWSER"
# Where the console and reference tests save screenshots of each page (`make screenshots`: docs/screenshots).
SCREENSHOT_DIR = "KAFKAGATE_SCREENSHOT_DIR"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    "--lang=en-US",
)


def missing() -> str | None:
    """Why no browser can run here, or None."""
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    return f"{' and '.join(absent)} not installed (run `make browser`)" if absent else None


def required() -> bool:
    return os.environ.get(REQUIRE) == "1"


@contextmanager
def chromium() -> Iterator[WebDriver]:
    """A headless Chromium with a fresh profile, its console log readable with `console_errors`."""
    profile = tempfile.mkdtemp(prefix="kafkagate-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver: WebDriver) -> list[dict[str, Any]]:
    """The browser console's errors (script errors, failed loads, CSP refusals) since the last call."""
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def screenshots() -> bool:
    """Whether this run saves screenshots (tests may then wait for a page worth showing)."""
    return bool(os.environ.get(SCREENSHOT_DIR))


def screenshot(driver: WebDriver, name: str) -> None:
    """Save the window as `<KAFKAGATE_SCREENSHOT_DIR>/<name>.png` when that variable is set."""
    folder = os.environ.get(SCREENSHOT_DIR)
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(Path(folder) / f"{name}.png"))

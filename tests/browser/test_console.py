"""`/console` in a real browser against a real gateway process, a real processor worker and the session broker:
sign in, create a stream with the form, watch events arrive in the live tail, read a group's lag per partition
and watch a processor's throughput chart move. What the pages show is checked against what the test produced
(the gateway's produce answers) and what a plain Kafka consumer reads back."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import chromium
from tests.browser.conftest import ROOT_TOKEN
from tests.integration.conftest import read_all

pytestmark = [pytest.mark.kafka, pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def worker(kafka_bootstrap: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`kafkagate worker`, the processor supervisor, in its own process group (it starts Faust workers)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKAGATE_")}
    env.update(
        {"KAFKAGATE_BOOTSTRAP_SERVERS": kafka_bootstrap, "KAFKAGATE_PROCESSOR_DATA_DIR": str(tmp_path / "processors")}
    )
    with (tmp_path / "worker.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - the installed console script, fixed argv
            [str(Path(sys.executable).with_name("kafkagate")), "worker"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def until(driver: WebDriver, check: Callable[[WebDriver], Any], what: str, timeout_s: float = 30) -> Any:
    try:
        return WebDriverWait(driver, timeout_s, ignored_exceptions=(StaleElementReferenceException,)).until(check)
    except TimeoutException:
        chromium.screenshot(driver, "failed")
        pytest.fail(f"timed out after {timeout_s} s waiting for {what}; console: {chromium.console_errors(driver)}")


def text(driver: WebDriver, selector: str) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return found[0].text if found else ""


def eventually(check: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def points(driver: WebDriver, selector: str) -> int:
    """How many points the chart at `selector` draws (0 while it is not on the page)."""
    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return int(found[0].get_attribute("data-points") or 0) if found else 0


def produce(api: httpx.Client, stream: str, events: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Publish a batch; the (partition, offset) of each event, as the gateway acknowledged them."""
    response = api.post(f"/api/v1/streams/{stream}/events/batch", json={"events": events})
    assert response.status_code == 200, response.text
    return [(r["partition"], r["offset"]) for r in response.json()["results"]]


class Load(threading.Thread):
    """Publishes small batches to `streams` until stopped, counting what was acknowledged."""

    def __init__(self, base_url: str, streams: list[str]):
        super().__init__(daemon=True)
        self.base_url, self.streams = base_url, streams
        self.stopped = threading.Event()
        self.acknowledged: Counter[str] = Counter()

    def run(self) -> None:
        headers = {"authorization": f"Bearer {ROOT_TOKEN}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=30) as api:
            n = 0
            while not self.stopped.wait(0.2):
                for stream in self.streams:
                    events = [
                        {"key": f"u{(n + i) % 3}", "value": {"userId": f"u{(n + i) % 3}", "n": n + i}} for i in range(5)
                    ]
                    self.acknowledged[stream] += len(produce(api, stream, events))
                n += 5


def test_console_walkthrough(
    browser: WebDriver, gateway_url: str, worker: subprocess.Popen[bytes], kafka_bootstrap: str
) -> None:
    suffix = uuid.uuid4().hex[:6]
    clicks, orders, group = f"clicks-{suffix}", f"orders-{suffix}", f"analytics-{suffix}"
    api = httpx.Client(base_url=gateway_url, headers={"authorization": f"Bearer {ROOT_TOKEN}"}, timeout=30)
    processor_id = None
    load = Load(gateway_url, [clicks, orders])
    try:
        # Sign in: a wrong token is refused and nothing is kept; the right one is kept in this tab only.
        browser.get(f"{gateway_url}/console")
        token = until(browser, lambda d: d.find_element(By.ID, "token"), "the sign-in form")
        assert not browser.find_element(By.ID, "nav").is_displayed(), "navigation shown before signing in"
        chromium.screenshot(browser, "console-sign-in")
        token.send_keys("kg_not_a_key_" + "x" * 40)
        browser.find_element(By.ID, "sign-in-submit").click()
        until(browser, lambda d: "refused" in text(d, "#sign-in-error"), "the refusal")
        errors = chromium.console_errors(browser)
        assert errors, "the refused sign-in made no request"
        assert all("401" in e["message"] and "/api/v1/streams" in e["message"] for e in errors), errors
        assert browser.execute_script("return sessionStorage.length") == 0
        token.clear()
        token.send_keys(ROOT_TOKEN)
        browser.find_element(By.ID, "sign-in-submit").click()
        until(browser, lambda d: d.find_elements(By.ID, "new-stream"), "the streams page")
        assert browser.find_element(By.ID, "nav").is_displayed()
        assert ROOT_TOKEN in browser.execute_script("return sessionStorage.getItem('kafkagate.session')")
        assert browser.execute_script("return localStorage.length") == 0

        # Create a stream with the form; the console opens it, and Kafka has it with the partitions asked for.
        browser.find_element(By.ID, "new-stream-name").send_keys(clicks)
        partitions = browser.find_element(By.ID, "new-stream-partitions")
        partitions.clear()
        partitions.send_keys("3")
        browser.find_element(By.ID, "new-stream-submit").click()
        until(
            browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#partition-table tbody tr")) == 3, "3 partitions"
        )
        assert api.get(f"/api/v1/streams/{clicks}").json()["partitions"] == 3
        assert api.post("/api/v1/streams", json={"name": orders, "partitions": 2}).status_code == 201

        # The live tail: events published after it started listening appear, each once, as Kafka holds them.
        browser.find_element(By.ID, "open-tail").click()
        until(
            browser, lambda d: d.find_element(By.ID, "tail-state").get_attribute("data-listening") == "true", "the tail"
        )
        sent = [
            {"key": f"k{i}", "value": {"userId": f"u{i % 3}", "n": i}, "headers": {"source": "console-test"}}
            for i in range(6)
        ]
        placed = produce(api, clicks, sent)
        until(browser, lambda d: d.find_element(By.ID, "tail-count").text == "6", "6 events in the tail")
        rows = browser.find_elements(By.CSS_SELECTOR, "#tail-rows tr")
        shown = {(int(r.get_attribute("data-partition")), int(r.get_attribute("data-offset"))) for r in rows}
        assert shown == set(placed)
        records = asyncio.run(read_all(kafka_bootstrap, clicks, len(sent)))
        assert {(r.partition, r.offset) for r in records} == shown
        values = {r.find_element(By.CSS_SELECTOR, "td.value").text for r in rows}
        assert values == {orjson.dumps(r.value and orjson.loads(r.value)).decode() for r in records}
        chromium.screenshot(browser, "console-tail")
        tail_group = browser.find_element(By.ID, "tail-state").get_attribute("data-group")
        assert api.get(f"/api/v1/consumers/{tail_group}").json()["members"]

        # A group that read everything and committed one event per partition: its lag is the rest.
        polled: list[dict[str, Any]] = []
        params: dict[str, Any] = {"consumerGroup": group, "offset": "earliest", "timeout": 1000}
        for _ in range(20):
            polled += api.get(f"/api/v1/streams/{clicks}/events", params=params).json()["events"]
            params.pop("offset", None)
            if len(polled) >= len(sent):
                break
        assert len(polled) == len(sent)
        firsts = {e["partition"]: e["offset"] for e in sorted(polled, key=lambda e: -e["offset"])}
        commit = [{"stream": clicks, "partition": p, "offset": o + 1} for p, o in firsts.items()]
        assert api.post(f"/api/v1/consumers/{group}/commit", json={"offsets": commit}).status_code == 200
        assert api.delete(f"/api/v1/consumers/{group}/sessions").status_code == 200
        produced = Counter(p for p, _ in placed)
        expected_lag = {f"{clicks}/{p}": str(produced[p] - (firsts[p] + 1)) for p in firsts}

        # A processor over the stream: tumbling one-minute counts per user.
        spec = {
            "name": f"clicks-per-user-{suffix}",
            "source": clicks,
            "operations": [
                {"type": "window", "windowType": "tumbling", "duration": 60_000},
                {"type": "aggregate", "aggregation": "count", "groupBy": "userId"},
            ],
            "sink": f"clicks-per-user-{suffix}",
            "config": {"parallelism": 1, "checkpointInterval": 1000},
        }
        created = api.post("/api/v1/processors", json=spec)
        assert created.status_code == 201, created.text
        processor_id = created.json()["processorId"]
        load.start()

        browser.get(f"{gateway_url}/console#/groups/{group}")

        # Leaving the tail closed its member and deleted its group.
        assert eventually(lambda: api.get(f"/api/v1/consumers/{tail_group}").status_code == 404, 10), tail_group
        until(
            browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#lag-table tbody tr")) == len(firsts), "lag rows"
        )
        lag = {
            row.get_attribute("data-partition"): row.find_element(By.CSS_SELECTOR, "[data-field=lag]").text
            for row in browser.find_elements(By.CSS_SELECTOR, "#lag-table tbody tr")
        }
        # The load adds events to the stream meanwhile: lag only grows from what was committed.
        assert lag.keys() == expected_lag.keys()
        assert all(int(lag[k].replace(",", "")) >= int(v) for k, v in expected_lag.items()), (lag, expected_lag)
        assert browser.find_elements(By.CSS_SELECTOR, "svg[data-chart=partition-lag] rect")
        until(browser, lambda d: points(d, "svg[data-chart=group-lag]") >= 2, "a total lag chart")
        chromium.screenshot(browser, "console-group")

        browser.get(f"{gateway_url}/console#/groups")
        filter_box = until(browser, lambda d: d.find_element(By.ID, "group-filter"), "the groups page")
        filter_box.send_keys(suffix)

        def filtered(d: WebDriver) -> bool:
            shown = [
                row.get_attribute("data-group") for row in d.find_elements(By.CSS_SELECTOR, "#group-table tbody tr")
            ]
            return group in shown and all(suffix in g for g in shown)

        until(browser, filtered, "the groups of this test only")
        chromium.screenshot(browser, "console-groups")

        # Streams with live message rates while the load runs.
        browser.get(f"{gateway_url}/console#/streams")
        until(browser, lambda d: d.find_element(By.ID, "stream-filter"), "the streams page").send_keys(suffix)

        def rates(d: WebDriver) -> bool:
            cells = [
                d.find_elements(By.CSS_SELECTOR, f"#stream-table tr[data-stream='{name}'] [data-field=rate]")
                for name in (clicks, orders)
            ]
            rows = d.find_elements(By.CSS_SELECTOR, "#stream-table tbody tr")
            if not all(suffix in (row.get_attribute("data-stream") or "") for row in rows):
                return False  # the filter is not applied yet
            # "\u2013" (a dash): no rate yet, before the second observation.
            return all(found and found[0].text not in ("\u2013", "0.00/s") for found in cells)

        until(browser, rates, "message rates of both streams")
        chromium.screenshot(browser, "console-streams")
        browser.get(f"{gateway_url}/console#/streams/{clicks}")
        until(browser, lambda d: points(d, "svg[data-chart=stream-rate]") >= 3, "a rate chart")
        chromium.screenshot(browser, "console-stream")

        # The processor: running, and its throughput chart moves as its worker reports.
        browser.get(f"{gateway_url}/console#/processors")
        card = f"[data-processor='{processor_id}']"
        until(browser, lambda d: text(d, f"{card} [data-field=status]") == "running", "the processor running", 90)

        def chart(d: WebDriver) -> tuple[float, str]:
            svg = d.find_element(By.CSS_SELECTOR, f"{card} svg[data-chart=throughput]")
            line = svg.find_elements(By.CSS_SELECTOR, "polyline")
            return float(svg.get_attribute("data-max") or 0), line[0].get_attribute("points") if line else ""

        until(browser, lambda d: chart(d)[0] > 0, "throughput above zero on the chart", 60)
        before = chart(browser)[1]
        until(browser, lambda d: chart(d)[1] != before, "the throughput chart to move")
        assert int(text(browser, f"{card} h3").split("(")[1].rstrip(")")) >= 1, "no open window shown"
        if chromium.screenshots():
            until(browser, lambda d: points(d, f"{card} svg[data-chart=throughput]") >= 8, "a chart worth showing")
        chromium.screenshot(browser, "console-processors")
        metrics = api.get(f"/api/v1/processors/{processor_id}/metrics").json()
        assert metrics["status"] == "running"
        assert metrics["metrics"]["eventsProcessed"] > 0
        assert chromium.console_errors(browser) == []
    finally:
        load.stopped.set()
        load.join(30)
        if processor_id is not None:
            api.delete(f"/api/v1/processors/{processor_id}")
        api.close()

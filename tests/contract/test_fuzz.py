"""schemathesis over every operation of `/openapi.json`, as the root, against the app served in this process on
the real broker: its examples, fuzzing and stateful phases (the OpenAPI links walk from a created stream to its
events, group, commits and processor, and from a created log to its appends and views; `test_openapi_links.py`
follows each link once), with a fixed seed and bounded examples, stopped after MAX_TIME_S.

Checks: no 5xx; status codes, content types, headers and bodies as documented; every non-2xx its API's error
envelope with the request id (`tests/contract/fuzz_checks.py`); resources found after creation and gone after
deletion. Left out here: `positive_data_acceptance` and `negative_data_rejection`, which also flag refusals
the document cannot express (a key's `expiresAt` in the past, an Idempotency-Key reused with another body, a
replication factor above the brokers) — `make fuzz` runs them, for a person to read.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from gateway.app import create_app
from gateway.http_protocol import bounded_head_protocol
from gateway.settings import Settings
from scripts.launcher import free_port
from tests.integration.conftest import ROOT_TOKEN

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

REPOSITORY = Path(__file__).resolve().parents[2]
SEED = 20261201
MAX_EXAMPLES = 5  # per operation and phase
# The examples, fuzzing and stateful phases, within MAX_TIME_S on a busy machine; `make fuzz` adds the coverage
# phase (boundary values of every constraint, a few minutes on its own).
PHASES = "examples,fuzzing,stateful"
MAX_TIME_S = 80
# See the module docstring; and `ensure_resource_availability`, which follows links schemathesis infers from a
# Location header to sub-resources: a stream just created has no schema, and GET .../schema is rightly 404.
CHECKS_LEFT_OUT = "positive_data_acceptance,negative_data_rejection,ensure_resource_availability"
# The repository's schemathesis.toml sizes `make fuzz`'s phases, and a phase's own max-examples wins over
# --max-examples: this run takes the same check module with its own bounds instead.
CONFIG = f"""hooks = "tests.contract.fuzz_hooks"

[phases.fuzzing.generation]
max-examples = {MAX_EXAMPLES}
"""


ROOT = {"authorization": f"Bearer {ROOT_TOKEN}"}


def wait_ready(url: str, timeout_s: float = 60) -> None:
    """Until `/readyz` is 200: the lifespan has started the Kafka clients, which connect in the background."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError(f"the gateway was not ready after {timeout_s} s")


def processor_ids(url: str) -> set[str]:
    response = httpx.get(f"{url}/api/v1/processors", headers=ROOT, timeout=30)
    response.raise_for_status()
    return {p["processorId"] for p in response.json()["processors"]}


@pytest.fixture(scope="module")
def served_app(kafka_bootstrap: str) -> Iterator[str]:
    """The gateway app under uvicorn on a thread of this process; yields its base URL."""
    settings = Settings(
        bootstrap_servers=kafka_bootstrap,
        admin_token=ROOT_TOKEN,
        consume_max_timeout_ms=200,  # long polls are bounded by this; the document says so, and the fuzzer obeys
        stream_max_partitions=4,  # streams of thousands of partitions would load the shared broker for nothing
        access_log=False,
    )
    app = create_app(settings)  # owns its Kafka clients: the lifespan starts them on uvicorn's loop
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        loop="asyncio",
        http=bounded_head_protocol(settings.header_read_timeout_s),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fuzzed-gateway", daemon=True)
    thread.start()
    try:
        for _ in range(600):
            if server.started:
                break
            assert thread.is_alive(), "the gateway did not start"
            threading.Event().wait(0.05)
        assert server.started
        url = f"http://127.0.0.1:{port}"
        wait_ready(url)
        before = processor_ids(url)
        yield url
        # The processors it made would be run by the supervisor of any later runtime test on this broker.
        for processor_id in processor_ids(url) - before:
            httpx.delete(f"{url}/api/v1/processors/{processor_id}", headers=ROOT, timeout=30)
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.mark.timeout(MAX_TIME_S + 90)
def test_schemathesis_finds_no_server_error_and_no_contract_violation(served_app: str, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    argv = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config),
        "run",
        f"{served_app}/openapi.json",
        "--header",
        f"Authorization: Bearer {ROOT_TOKEN}",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--phases",
        PHASES,
        "--max-time",
        str(MAX_TIME_S),
        "--exclude-checks",
        CHECKS_LEFT_OUT,
        "--workers",
        "1",
        "--request-timeout",
        "30",  # a poll that joins a new group waits for the group's first rebalance, seconds on a busy broker
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    result = subprocess.run(  # noqa: S603 - schemathesis's own console script, fixed argv
        argv, cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=MAX_TIME_S + 60, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20_000:]
    assert "Server error" not in output

"""The broker dies (kill -9) and comes back while clients keep producing: nothing acknowledged is lost or doubled."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest

from scripts import launcher
from tests.conftest import BROKER_SETTINGS, Broker
from tests.integration.conftest import GatewayFactory, read_all

pytestmark = [pytest.mark.kafka, pytest.mark.chaos, pytest.mark.slow]


async def restart(broker: Broker) -> None:
    assert broker.data_dir is not None
    port, controller_port = (broker.data_dir / "ports").read_text().split()
    argv = launcher.up_argv(broker.data_dir, int(port), int(controller_port), BROKER_SETTINGS)
    proc = await asyncio.create_subprocess_exec(*argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert launcher.parse_bootstrap(stdout.decode()) == broker.bootstrap


async def test_acknowledged_events_survive_a_broker_crash(
    make_gateway: GatewayFactory, new_stream: Callable[..., Awaitable[str]], kafka_broker: Broker
) -> None:
    if kafka_broker.pid is None:
        pytest.skip("needs the test session's own broker to kill it")
    gateway: httpx.AsyncClient = await make_gateway(producer_request_timeout_ms=3000, produce_timeout_ms=6000)
    stream = await new_stream(partitions=3)
    acked: dict[int, dict[str, Any]] = {}
    failed: dict[int, int] = {}
    next_id = 0
    crashed = asyncio.Event()

    async def client() -> None:
        nonlocal next_id
        while next_id < 600:
            event_id = next_id
            next_id += 1
            response = await gateway.post(
                f"/api/v1/streams/{stream}/events", json={"key": str(event_id), "value": event_id}
            )
            if response.status_code == 201:
                acked[event_id] = response.json()
            else:
                assert response.headers["content-type"] == "application/problem+json"
                failed[event_id] = response.json()["code"]
            if event_id == 200:
                crashed.set()

    async def chaos() -> None:
        await crashed.wait()
        os.kill(kafka_broker.pid or 0, signal.SIGKILL)
        await asyncio.sleep(2)
        await restart(kafka_broker)

    await asyncio.gather(*(client() for _ in range(4)), chaos())
    assert len(acked) >= 300, f"too few events were acknowledged around the crash: {len(acked)}"
    assert set(failed.values()) <= {1006, 1011}, failed  # TIMEOUT (outcome unknown) or BROKER_UNAVAILABLE

    records = await read_all(kafka_broker.bootstrap, stream, len(acked), timeout_s=30)
    landed = [orjson.loads(r.value) for r in records]
    assert len(landed) == len(set(landed)), "an event was written twice"
    missing = sorted(set(acked) - set(landed))
    assert not missing, f"acknowledged events lost: {missing[:10]}"
    for record in records:
        event_id = orjson.loads(record.value)
        if event_id in acked:
            assert (record.partition, record.offset) == (acked[event_id]["partition"], acked[event_id]["offset"])
    assert set(landed) - set(acked) <= set(failed), "an event nobody sent appeared"
    assert (await gateway.get("/readyz")).status_code == 200

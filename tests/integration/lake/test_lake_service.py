"""`kafkagate worker` keeps the lake sink running: the supervisor starts its services before any processor
exists, restarts one that died, and stops them when it stops."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from processors.kept_process import KeptProcess
from processors.lake.service import lake_sink
from processors.supervisor import Supervisor

pytestmark = pytest.mark.kafka


async def wait_until(condition: Callable[[], bool], timeout_s: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_the_supervisor_keeps_its_services_alive(kafka_bootstrap: str, tmp_path: Path) -> None:
    service = KeptProcess("sleeper", [sys.executable, "-c", "import time; time.sleep(120)"], tmp_path / "s.log")
    supervisor = Supervisor(kafka_bootstrap, tmp_path / "processors", services=[service])
    running = asyncio.create_task(supervisor.run())
    try:
        await wait_until(lambda: service.process is not None)
        first = service.process
        assert first is not None
        first.send_signal(signal.SIGKILL)
        await wait_until(lambda: service.process is not None and service.process is not first)
        assert service.restarts == 1
    finally:
        supervisor.request_stop()
        await asyncio.wait_for(running, 30)
    assert service.process is not None
    assert service.process.returncode is not None  # stopped with the supervisor


def test_the_lake_sink_service_runs_the_sink_module(tmp_path: Path) -> None:
    sink = lake_sink("127.0.0.1:9092", tmp_path)
    assert sink.argv[1:] == ["-m", "processors.lake.sink", "--bootstrap", "127.0.0.1:9092"]
    assert sink.log_path == tmp_path / "lake-sink.log"

"""Faults the chaos tests inject: SIGKILL a process and wait until it is gone, start killed Kafka nodes again,
and watch `/readyz` meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from scripts import launcher
from tests.conftest import Broker

# The in-process gateways of the fault tests: Kafka timeouts short enough for the tests' bounds, and no request
# quota. While Kafka is away requests fail fast and the clients go straight on to the next one; on a fast machine
# that outruns the default quota (1,000 requests/s), and a 429 says nothing about the faults under test.
GATEWAY_UNDER_FAULTS = {
    "producer_request_timeout_ms": 3000,
    "produce_timeout_ms": 5000,
    "admin_request_timeout_ms": 3000,
    "rate_limit_requests_per_s": 0,
}


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in {"Z", "X"}
    except OSError:
        return True


async def _stop(pid: int, sig: signal.Signals, timeout_s: float) -> None:
    os.kill(pid, sig)
    for _ in range(int(timeout_s / 0.05)):
        if _gone(pid):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"pid {pid} still alive {timeout_s} s after {sig.name}")


async def sigkill(pid: int) -> None:
    """kill -9 and wait until the process is dead (a zombie counts: it holds no port and no file)."""
    await _stop(pid, signal.SIGKILL, 10)


async def sigterm(pid: int) -> None:
    """A graceful stop (a broker's controlled shutdown, as in a rolling restart); waits until it is gone."""
    await _stop(pid, signal.SIGTERM, 60)


async def restart(broker: Broker) -> None:
    """Start the killed nodes of `broker` again (the others keep running) and wait until all serve."""
    proc = await asyncio.create_subprocess_exec(*broker.up_argv(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert launcher.parse_bootstrap(stdout.decode()) == broker.bootstrap


@dataclass
class Readiness:
    """`/readyz` polled every 0.2 s: (seconds since start, status) per poll."""

    get: Callable[[], Awaitable[httpx.Response]]
    polls: list[tuple[float, int]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _origin: float = 0.0

    def start(self) -> None:
        self._origin = asyncio.get_running_loop().time()
        self._task = asyncio.create_task(self._run())

    def clock(self) -> float:
        """Seconds since `start`, the time base of `polls`."""
        return asyncio.get_running_loop().time() - self._origin

    async def _run(self) -> None:
        while True:
            asked = self.clock()
            try:
                status = (await self.get()).status_code
            except httpx.TransportError:
                status = 0
            self.polls.append((asked, status))
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def statuses(self, start: float, end: float) -> list[int]:
        return [status for t, status in self.polls if start <= t < end]

    def first_ready_after(self, t: float) -> float | None:
        return next((at - t for at, status in self.polls if at >= t and status == 200), None)

    async def wait_ready_after(self, t: float, timeout_s: float) -> float:
        """Seconds from `t` to the first 200 polled after it, waiting up to `timeout_s` for one."""
        for _ in range(int(timeout_s / 0.1)):
            found = self.first_ready_after(t)
            if found is not None:
                return found
            await asyncio.sleep(0.1)
        raise AssertionError(f"/readyz was not 200 within {timeout_s} s: {self.polls[-5:]}")

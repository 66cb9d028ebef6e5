"""The gateway's resident memory: idle, at its peak under a workload, and holding many idle consumer members."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.clients import GatewayClient
from bench.stats import Spread

_SAMPLE_EVERY_S = 0.05


def rss_mb(pid: int) -> float | None:
    """Resident set size of `pid` in MiB (Linux `/proc`), or None when it cannot be read."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # kB
    return None


@dataclass(slots=True)
class Reading:
    """One memory figure: a sample per run."""

    name: str
    samples_mb: list[float] = field(default_factory=list)

    @property
    def spread(self) -> Spread:
        return Spread.of(self.samples_mb)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "samples_mb": [round(s, 1) for s in self.samples_mb], **self.spread.to_json()}


@contextlib.asynccontextmanager
async def peak(pid: int, reading: Reading) -> AsyncIterator[None]:
    """Sample `pid`'s RSS every 50 ms while the block runs; add the largest sample to `reading`."""
    highest = 0.0

    async def sample() -> None:
        nonlocal highest
        while True:
            highest = max(highest, rss_mb(pid) or 0.0)
            await asyncio.sleep(_SAMPLE_EVERY_S)

    task = asyncio.create_task(sample())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    highest = max(highest, rss_mb(pid) or 0.0)
    if highest:
        reading.samples_mb.append(highest)


async def hold_members(
    http: GatewayClient, stream: str, prefix: str, members: int, concurrency: int = 8
) -> tuple[list[str], int]:
    """Create `members` consumer members, one group each, by polling `stream` once with no wait; return the
    groups tried and how many polls failed (a join can outlast the client's timeout on a busy machine). The
    members stay in the gateway, idle, until their sessions are closed."""
    groups = [f"{prefix}-{i}" for i in range(members)]
    pending = iter(groups)
    failed = 0

    async def worker() -> None:
        nonlocal failed
        for group in pending:
            params = {"consumerGroup": group, "limit": "1", "timeout": "0"}
            try:
                reply = await http.request("GET", f"/api/v1/streams/{stream}/events", params=params)
            except (TimeoutError, OSError):
                failed += 1
                continue
            if reply.status != 200:
                failed += 1

    async with asyncio.TaskGroup() as tasks:
        for _ in range(concurrency):
            tasks.create_task(worker())
    return groups, failed


async def release_members(http: GatewayClient, groups: list[str], concurrency: int = 16) -> None:
    pending = iter(groups)

    async def worker() -> None:
        for group in pending:
            with contextlib.suppress(TimeoutError, OSError):
                await http.request("DELETE", f"/api/v1/consumers/{group}/sessions")

    async with asyncio.TaskGroup() as tasks:
        for _ in range(concurrency):
            tasks.create_task(worker())

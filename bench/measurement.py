"""What one workload on one side produced: event count, wall time and per-request latencies."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from bench.cpu import CpuProbe, CpuSample, used


@dataclass(frozen=True, slots=True)
class Measurement:
    """`latencies_s` holds one entry per request (a send, an HTTP call, a poll), in completion order."""

    scenario: str
    side: str  # "raw" or "gateway (<client>)"
    events: int
    seconds: float
    latencies_s: list[float]
    cpu: CpuSample | None = None  # CPU seconds each process used during `seconds`

    @property
    def requests(self) -> int:
        return len(self.latencies_s)

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def percentile_ms(self, fraction: float) -> float:
        """Nearest-rank percentile of the request latencies, in milliseconds."""
        if not self.latencies_s:
            return math.nan
        ordered = sorted(self.latencies_s)
        rank = max(1, math.ceil(fraction * len(ordered)))
        return ordered[rank - 1] * 1000

    def cpu_share(self) -> tuple[float | None, float | None, float | None]:
        """CPU used by the bench, the gateway and the broker, as fractions of one core (1.0 = one busy core)."""
        if self.cpu is None or self.seconds <= 0:
            return None, None, None
        gateway, broker = self.cpu.gateway_s, self.cpu.broker_s
        return (
            self.cpu.bench_s / self.seconds,
            None if gateway is None else gateway / self.seconds,
            None if broker is None else broker / self.seconds,
        )

    def to_json(self) -> dict[str, Any]:
        bench, gateway, broker = self.cpu_share()
        return {
            "scenario": self.scenario,
            "side": self.side,
            "events": self.events,
            "requests": self.requests,
            "seconds": round(self.seconds, 4),
            "events_per_s": round(self.events_per_s, 1),
            "p50_ms": round(self.percentile_ms(0.50), 3),
            "p99_ms": round(self.percentile_ms(0.99), 3),
            "max_ms": round(self.percentile_ms(1.0), 3),
            "cpu_cores": {
                "bench": None if bench is None else round(bench, 3),
                "gateway": None if gateway is None else round(gateway, 3),
                "broker": None if broker is None else round(broker, 3),
            },
        }


class Window:
    """Times a block, and samples CPU around it when given a probe."""

    def __init__(self, probe: CpuProbe | None):
        self._probe = probe
        self._started = 0.0
        self._before: CpuSample | None = None
        self.seconds = 0.0
        self.cpu: CpuSample | None = None

    def __enter__(self) -> Window:
        self._before = None if self._probe is None else self._probe.sample()
        self._started = time.perf_counter()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.seconds = time.perf_counter() - self._started
        if self._probe is not None and self._before is not None:
            self.cpu = used(self._before, self._probe.sample())


async def run_concurrently(
    count: int, concurrency: int, operation: Callable[[int], Awaitable[None]], probe: CpuProbe | None = None
) -> tuple[Window, list[float]]:
    """Run `operation(i)` for i in `range(count)` from `concurrency` tasks; return the timed window and latencies."""
    indices = iter(range(count))
    latencies: list[float] = []

    async def worker() -> None:
        for index in indices:  # shared iterator: each index is taken by exactly one worker
            started = time.perf_counter()
            await operation(index)
            latencies.append(time.perf_counter() - started)

    with Window(probe) as window:
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
    return window, latencies

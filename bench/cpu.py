"""CPU time used by the bench itself, the gateway and the broker while a workload runs.

On a 2-core machine the three compete for the same cores, so CPU per process, shown as a share of one core,
says which of them a workload saturated. Other processes' CPU time is read from `/proc` (Linux); elsewhere it
is reported as unknown.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

_CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_s(pid: int) -> float | None:
    """User plus system CPU seconds of process `pid`, or None when it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name in field 2 may hold spaces; every field after its closing parenthesis is numeric.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS_PER_S  # utime and stime: fields 14 and 15


@dataclass(frozen=True, slots=True)
class CpuSample:
    bench_s: float
    gateway_s: float | None
    broker_s: float | None


@dataclass(frozen=True, slots=True)
class CpuProbe:
    """Samples the three processes; `broker_pid` is None when the broker is not ours to watch."""

    gateway_pid: int
    broker_pid: int | None

    def sample(self) -> CpuSample:
        return CpuSample(
            bench_s=time.process_time(),
            gateway_s=process_cpu_s(self.gateway_pid),
            broker_s=None if self.broker_pid is None else process_cpu_s(self.broker_pid),
        )


def _delta(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


def used(before: CpuSample, after: CpuSample) -> CpuSample:
    return CpuSample(
        bench_s=after.bench_s - before.bench_s,
        gateway_s=_delta(after.gateway_s, before.gateway_s),
        broker_s=_delta(after.broker_s, before.broker_s),
    )

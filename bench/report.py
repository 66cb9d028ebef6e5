"""The results as a text table for people and a JSON document for tools."""

from __future__ import annotations

import math
import os
import platform
import time
from importlib.metadata import version
from typing import Any

from bench.measurement import Measurement
from bench.plan import Plan
from gateway.settings import Settings

_CPU = "CPU% bench/gw/kafka"
_COLUMNS = ("scenario", "side", "events", "requests", "seconds", "events/s", "p50 ms", "p99 ms", "gw/raw", _CPU)
_WIDTHS = (23, 17, 6, 8, 7, 8, 7, 8, 6, len(_CPU))


def vs_raw(measurement: Measurement, measurements: list[Measurement]) -> float | None:
    """Events/s of a gateway measurement divided by raw aiokafka's in the same scenario."""
    if measurement.side == "raw":
        return None
    for base in measurements:
        if base.side == "raw" and base.scenario == measurement.scenario and base.events_per_s > 0:
            return measurement.events_per_s / base.events_per_s
    return None


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def _cpu(measurement: Measurement) -> str:
    return "/".join("-" if share is None else f"{share * 100:.0f}" for share in measurement.cpu_share())


def table(measurements: list[Measurement]) -> str:
    """One row per measurement; CPU is per process, in percent of one core, while the workload ran."""
    rows: list[tuple[str, ...]] = [_COLUMNS]
    previous = None
    for m in measurements:
        ratio = vs_raw(m, measurements)
        rows.append(
            (
                m.scenario if m.scenario != previous else "",
                m.side,
                f"{m.events:,}",
                f"{m.requests:,}",
                f"{m.seconds:.2f}",
                f"{m.events_per_s:,.0f}",
                _ms(m.percentile_ms(0.50)),
                _ms(m.percentile_ms(0.99)),
                "" if ratio is None else f"{ratio:.2f}x",
                _cpu(m),
            )
        )
        previous = m.scenario
    lines = []
    for row in rows:
        cells = [
            cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, _WIDTHS, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _result(measurement: Measurement, measurements: list[Measurement]) -> dict[str, Any]:
    ratio = vs_raw(measurement, measurements)
    return {**measurement.to_json(), "events_per_s_vs_raw": None if ratio is None else round(ratio, 3)}


def document(plan: Plan, settings: Settings, broker: str, measurements: list[Measurement]) -> dict[str, Any]:
    return {
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "versions": {name: version(name) for name in ("kafkagate", "aiokafka", "httpx", "uvicorn")},
        "broker": broker,
        "producer": {
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": settings.producer_linger_ms,
            "compression": settings.producer_compression,
        },
        "plan": {
            "single_events": plan.single_events,
            "concurrency": list(plan.concurrency),
            "batches": plan.batches,
            "batch_size": plan.batch_size,
            "consume_events": plan.consume_events,
            "consume_limit": plan.consume_limit,
            "warmup_events": plan.warmup_events,
            "warmup_batches": plan.warmup_batches,
            "partitions": plan.partitions,
            "auth_requests": plan.auth_requests,
            "schema_events": plan.schema_events,
            "clients": list(plan.clients),
        },
        "results": [_result(m, measurements) for m in measurements],
    }

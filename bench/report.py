"""The results as a table for people (rich on the terminal, markdown for BENCHMARKS.md), the targets of the
performance work checked against them, and a JSON document for comparisons between runs."""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from bench import java, raw
from bench.memory import Reading
from bench.plan import Plan
from bench.stats import Spread, Summary, find
from gateway.settings import Settings

COLUMNS = ("scenario", "side", "events/s (min-max)", "vs send", "p50 ms", "p99 ms", "CPU% gen/gw/kafka")


def baseline(summary: Summary, summaries: Sequence[Summary]) -> Summary | None:
    """What a row is compared with: aiokafka's naive client in the same scenario (its getmany for consume)."""
    side = raw.CONSUMER if summary.scenario.startswith("consume") else raw.NAIVE
    if summary.side == side:
        return None
    return find(summaries, summary.scenario, side)


def ratio(top: float, bottom: float) -> float:
    return top / bottom if bottom > 0 and not math.isnan(top) and not math.isnan(bottom) else math.nan


def _rate(spread: Spread) -> str:
    if math.isnan(spread.median):
        return "-"
    if spread.low == spread.high:
        return f"{spread.median:,.0f}"
    return f"{spread.median:,.0f} ({spread.low:,.0f}-{spread.high:,.0f})"


def _ms(spread: Spread) -> str:
    return "-" if math.isnan(spread.median) else f"{spread.median:.1f}"


def _cpu(summary: Summary) -> str:
    return "/".join("-" if share is None else f"{share * 100:.0f}" for share in summary.cpu_cores())


def rows(summaries: Sequence[Summary]) -> list[tuple[str, ...]]:
    """The table's cells, one row per summary; a scenario is named only on its first row."""
    out: list[tuple[str, ...]] = []
    previous = None
    for s in summaries:
        base = baseline(s, summaries)
        vs = "" if base is None else f"{ratio(s.events_per_s.median, base.events_per_s.median):.2f}x"
        out.append(
            (
                s.scenario if s.scenario != previous else "",
                s.side,
                _rate(s.events_per_s),
                vs,
                _ms(s.p50_ms),
                _ms(s.p99_ms),
                _cpu(s),
            )
        )
        previous = s.scenario
    return out


def markdown(summaries: Sequence[Summary], memory: Sequence[Reading]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows(summaries)]
    if memory:
        lines += ["", "| gateway RSS | MiB (min-max) |", "|---|---|"]
        lines += [f"| {r.name} | {_memory(r.spread)} |" for r in memory]
    return "\n".join(lines)


def _memory(spread: Spread) -> str:
    if math.isnan(spread.median):
        return "-"
    return f"{spread.median:.0f} ({spread.low:.0f}-{spread.high:.0f})"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    value: float
    goal: str
    met: bool
    unit: str = "x"

    def line(self) -> str:
        shown = "n/a" if math.isnan(self.value) else f"{self.value:.2f}{self.unit}"
        mark = "met" if self.met else "MISSED"
        return f"{mark:>6}  {self.name}: {shown} (goal {self.goal})"


def _rate_of(summaries: Sequence[Summary], scenario: str, side: str, field: str = "events_per_s") -> float:
    found = find(summaries, scenario, side)
    if found is None:
        return math.nan
    spread: Spread = getattr(found, field)
    return spread.median


def _at_least(name: str, value: float, goal: float, unit: str = "x") -> Target:
    return Target(name, value, f">= {goal:g}{unit}", not math.isnan(value) and value >= goal, unit)


def _at_most(name: str, value: float, goal: float, unit: str) -> Target:
    return Target(name, value, f"<= {goal:g}{unit}", not math.isnan(value) and value <= goal, unit)


def targets(plan: Plan, summaries: Sequence[Summary], memory: Sequence[Reading]) -> list[Target]:
    """The performance targets, each from medians of one run; a figure the plan did not measure shows n/a."""
    found: list[Target] = []
    batch = f"batch of {plan.batch_size:,} x{max(plan.batch_in_flight)}"
    gw_batch = _rate_of(summaries, batch, "gateway")
    found.append(
        _at_least(f"{batch}: gateway / aiokafka send", ratio(gw_batch, _rate_of(summaries, batch, raw.NAIVE)), 2.0)
    )
    found.append(
        _at_least(f"{batch}: gateway / {java.SIDE}", ratio(gw_batch, _rate_of(summaries, batch, java.SIDE)), 0.8)
    )
    single = f"single event C={max(plan.concurrency)}"
    gw_single = _rate_of(summaries, single, "gateway")
    found.append(
        _at_least(
            f"{single}: gateway / aiokafka send_and_wait", ratio(gw_single, _rate_of(summaries, single, raw.NAIVE)), 1.0
        )
    )
    found.append(_at_most(f"{single}: gateway p99", _rate_of(summaries, single, "gateway", "p99_ms"), 20, " ms"))
    echo = _rate_of(summaries, single, "starlette echo", "requests_per_s")
    found.append(_at_least(f"{single}: gateway / starlette echo requests/s", ratio(gw_single, echo), 0.5))
    consume = f"consume limit={plan.consume_limit}"
    found.append(
        _at_least(
            f"{consume}: gateway / aiokafka getmany",
            ratio(_rate_of(summaries, consume, "gateway"), _rate_of(summaries, consume, raw.CONSUMER)),
            0.6,
        )
    )
    bearer = _rate_of(summaries, batch, "gateway+bearer")
    found.append(_at_most(f"{batch}: bearer token cost", (ratio(gw_batch, bearer) - 1) * 100, 5, "%"))
    one = "single event C=1"
    extra = _rate_of(summaries, one, "gateway+idempotency", "p50_ms") - _rate_of(summaries, one, "gateway", "p50_ms")
    round_trip = _rate_of(summaries, one, raw.NAIVE, "p50_ms")  # one acks=all produce round trip
    found.append(_at_most(f"{one}: idempotency key adds (broker round trips)", ratio(extra, round_trip), 1.0, ""))
    for reading, goal in (
        ("under the batch workload", 150),
        (f"with {plan.idle_members:,} idle consumer members", 300),
    ):
        spread = next((r.spread for r in memory if r.name.startswith(reading)), Spread.of([]))
        found.append(_at_most(f"gateway RSS {reading}", spread.median, goal, " MiB"))
    return found


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def document(
    plan: Plan, settings: Settings, broker: str, summaries: Sequence[Summary], memory: Sequence[Reading]
) -> dict[str, Any]:
    return {
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "versions": {name: _version(name) for name in ("kafkagate", "aiokafka", "aiohttp", "uvicorn", "starlette")},
        "broker": broker,
        "producer": {
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": settings.producer_linger_ms,
            "compression": settings.producer_compression,
        },
        "plan": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(plan).items() if k != "json_path"},
        "results": [{**s.to_json(), "vs_baseline": _vs(s, summaries)} for s in summaries],
        "memory_mb": [r.to_json() for r in memory],
        "targets": [
            {**asdict(t), "value": None if math.isnan(t.value) else round(t.value, 3)}
            for t in targets(plan, summaries, memory)
        ],
    }


def _vs(summary: Summary, summaries: Sequence[Summary]) -> float | None:
    base = baseline(summary, summaries)
    if base is None:
        return None
    value = ratio(summary.events_per_s.median, base.events_per_s.median)
    return None if math.isnan(value) else round(value, 3)


def _json_rate(spread: dict[str, float | None]) -> str:
    median, low, high = spread["median"], spread["min"], spread["max"]
    if median is None or low is None or high is None:
        return "-"
    return f"{median:,.0f}" if low == high else f"{median:,.0f} ({low:,.0f}-{high:,.0f})"


def _json_ms(spread: dict[str, float | None]) -> str:
    return "-" if spread["median"] is None else f"{spread['median']:.1f}"


def _json_cpu(cores: dict[str, float | None]) -> str:
    return "/".join("-" if cores[k] is None else f"{(cores[k] or 0) * 100:.0f}" for k in ("bench", "gateway", "broker"))


def document_markdown(doc: dict[str, Any]) -> str:
    """The markdown table and targets of a results document (`bench/results/latest.json`), for BENCHMARKS.md."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    previous = None
    for r in doc["results"]:
        vs = "" if r["vs_baseline"] is None else f"{r['vs_baseline']:.2f}x"
        scenario = r["scenario"] if r["scenario"] != previous else ""
        cells = (scenario, r["side"], _json_rate(r["events_per_s"]), vs, _json_ms(r["p50_ms"]), _json_ms(r["p99_ms"]))
        lines.append("| " + " | ".join((*cells, _json_cpu(r["cpu_cores"]))) + " |")
        previous = r["scenario"]
    lines += ["", "| gateway RSS | MiB, median (min-max) |", "|---|---|"]
    lines += [f"| {m['name']} | {m['median']:.0f} ({m['min']:.0f}-{m['max']:.0f}) |" for m in doc["memory_mb"]]
    lines += ["", "| target | this run | goal | |", "|---|---|---|---|"]
    for t in doc["targets"]:
        shown = "n/a" if t["value"] is None else f"{t['value']:.2f}{t['unit']}"
        lines.append(f"| {t['name']} | {shown} | {t['goal']} | {'met' if t['met'] else '**missed**'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    import orjson

    from bench.plan import RESULTS

    print(document_markdown(orjson.loads(Path(sys.argv[1] if len(sys.argv) > 1 else RESULTS).read_bytes())))

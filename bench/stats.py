"""Repeated runs folded into one figure each: the median, with the smallest and largest run beside it."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bench.measurement import Measurement


@dataclass(frozen=True, slots=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        kept = [v for v in values if not math.isnan(v)]
        if not kept:
            return cls(math.nan, math.nan, math.nan)
        return cls(statistics.median(kept), min(kept), max(kept))

    def to_json(self, digits: int = 1) -> dict[str, float | None]:
        return {k: None if math.isnan(v) else round(v, digits) for k, v in self._items()}

    def _items(self) -> list[tuple[str, float]]:
        return [("median", self.median), ("min", self.low), ("max", self.high)]


@dataclass(frozen=True, slots=True)
class Summary:
    """Every run of one scenario on one side."""

    scenario: str
    side: str
    runs: tuple[Measurement, ...]

    def spread(self, figure: Callable[[Measurement], float]) -> Spread:
        return Spread.of(figure(m) for m in self.runs)

    @property
    def events_per_s(self) -> Spread:
        return self.spread(lambda m: m.events_per_s)

    @property
    def requests_per_s(self) -> Spread:
        return self.spread(lambda m: m.requests / m.seconds if m.seconds > 0 else 0.0)

    @property
    def p50_ms(self) -> Spread:
        return self.spread(lambda m: m.percentile_ms(0.50))

    @property
    def p99_ms(self) -> Spread:
        return self.spread(lambda m: m.percentile_ms(0.99))

    def cpu_cores(self) -> tuple[float | None, float | None, float | None]:
        """Median share of one core used by the load generator, the gateway and the broker."""
        shares = [m.cpu_share() for m in self.runs]
        return (
            _median_known(s[0] for s in shares),
            _median_known(s[1] for s in shares),
            _median_known(s[2] for s in shares),
        )

    def to_json(self) -> dict[str, Any]:
        bench, gateway, broker = self.cpu_cores()
        return {
            "scenario": self.scenario,
            "side": self.side,
            "runs": len(self.runs),
            "events_per_run": self.runs[0].events,
            "events_per_s": self.events_per_s.to_json(),
            "requests_per_s": self.requests_per_s.to_json(),
            "p50_ms": self.p50_ms.to_json(3),
            "p99_ms": self.p99_ms.to_json(3),
            "cpu_cores": {
                "bench": _rounded(bench),
                "gateway": _rounded(gateway),
                "broker": _rounded(broker),
            },
        }


def _median_known(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def summarize(measurements: Iterable[Measurement]) -> list[Summary]:
    """One summary per (scenario, side), in the order each pair first appears."""
    groups: dict[tuple[str, str], list[Measurement]] = {}
    for m in measurements:
        groups.setdefault((m.scenario, m.side), []).append(m)
    return [Summary(scenario, side, tuple(runs)) for (scenario, side), runs in groups.items()]


def find(summaries: Iterable[Summary], scenario: str, side: str) -> Summary | None:
    return next((s for s in summaries if s.scenario == scenario and s.side == side), None)

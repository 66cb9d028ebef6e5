"""A compiled processor: what the runtime executes. Built by ``processors.compiler.compile_processor``.

Plans are frozen and compare by content (CEL programs compare by source, functions by name), so compiling equal
specs gives equal plans with the same ``fingerprint``. The pipeline has three parts: stateless ``before`` steps,
an optional ``aggregate`` stage (window + aggregate), and stateless ``after`` steps applied to aggregate results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from processors.aggregations import Aggregator
from processors.expressions import Expression
from processors.functions import MapFunction
from processors.selectors import Selector
from processors.timestamps import TimestampRule
from processors.windows import Window, WindowPolicy

OnError = Literal["skip", "dlq", "fail"]


@dataclass(frozen=True, slots=True)
class FilterStep:
    index: int
    predicate: Expression
    on_error: OnError


@dataclass(frozen=True, slots=True)
class MapStep:
    """Exactly one of ``function`` (called with ``args``) and ``expression`` (its result is the new value)."""

    index: int
    on_error: OnError
    function: MapFunction | None = None
    args: Mapping[str, Any] = field(default_factory=dict, hash=False)
    expression: Expression | None = None


@dataclass(frozen=True, slots=True)
class SampleStep:
    index: int
    rate: float
    by_key: bool
    on_error: OnError


@dataclass(frozen=True, slots=True)
class RouteCase:
    predicate: Expression
    sink: str


@dataclass(frozen=True, slots=True)
class RouteStep:
    """First matching case wins; ``default`` (the route's, else the spec's sink) takes the rest, or they drop."""

    index: int
    cases: tuple[RouteCase, ...]
    default: str | None
    on_error: OnError


Step = FilterStep | MapStep | SampleStep | RouteStep


@dataclass(frozen=True, slots=True)
class AggregateStage:
    """A keyed aggregate, windowed when ``window`` is set (else one running result per key, emitted on change).

    ``field`` is None for a record count. ``group_field`` names the group key in result values. Errors reading
    event time follow ``window_on_error`` (reported at ``window_index``); the others follow ``on_error``.
    """

    index: int
    aggregator: Aggregator
    group_by: Selector
    field: Selector | None
    on_error: OnError
    group_field: str
    window: WindowPolicy | None = None
    window_index: int | None = None
    window_on_error: OnError = "dlq"
    timestamp: TimestampRule | None = None

    def result_value(self, group_key: Any, window: Window | None, state: Any) -> dict[str, Any]:
        """``{windowStart, windowEnd, <group field>: key, <aggregation>: result}``, window bounds in epoch ms."""
        value: dict[str, Any] = {}
        if window is not None:
            value["windowStart"] = window.start
            value["windowEnd"] = window.end
        value[self.group_field] = group_key
        value[self.aggregator.name] = self.aggregator.result(state)
        return value


#: Kafka (4.0 and later) refuses records stamped more than an hour ahead of the broker's clock by default. Results
#: of a window longer than that are stamped window end - 1 while the window is open (`emit: changes`), and
#: repartitioned events carry event time read from the payload, so the topics the gateway creates for a processor
#: accept any timestamp.
ANY_TIMESTAMP: Mapping[str, str] = {"message.timestamp.after.max.ms": str(2**63 - 1)}
#: Repartition records keep their event-time timestamps, so time-based retention could delete replayed history
#: before stage 2 reads it. The topic keeps records until the runtime deletes what its group has committed.
REPARTITION_CONFIGS: Mapping[str, str] = {"retention.ms": "-1", "cleanup.policy": "delete", **ANY_TIMESTAMP}


@dataclass(frozen=True, slots=True)
class Topics:
    """Every topic the processor touches. ``dlq`` and ``repartition`` are internal: the runtime creates them."""

    source: str
    sink: str | None
    routes: tuple[str, ...]
    dlq: str
    repartition: str | None

    @property
    def internal(self) -> tuple[str, ...]:
        return (self.dlq,) if self.repartition is None else (self.dlq, self.repartition)

    def configs_for(self, topic: str) -> dict[str, str]:
        """Topic configs to create ``topic`` with when it is missing (Kafka's defaults apply to the rest)."""
        if topic == self.repartition:
            return dict(REPARTITION_CONFIGS)
        return dict(ANY_TIMESTAMP) if topic in self.outputs else {}

    @property
    def outputs(self) -> tuple[str, ...]:
        """Sinks the processor writes results to (not the internal topics), without duplicates, sorted."""
        return tuple(sorted({*self.routes, *([self.sink] if self.sink else [])}))


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    parallelism: int
    commit_interval_ms: int
    guarantee: Literal["at_least_once"]


@dataclass(frozen=True, slots=True)
class Plan:
    """``processor`` is the identifier internal topic names derive from. ``lookups`` names the lookup tables
    (compacted streams keyed by id) that map functions need the runtime to materialize."""

    processor: str
    name: str
    topics: Topics
    before: tuple[Step, ...]
    aggregate: AggregateStage | None
    after: tuple[Step, ...]
    config: RuntimeConfig
    lookups: tuple[str, ...]
    fingerprint: str

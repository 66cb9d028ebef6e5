"""Spec → plan: compile CEL, resolve map functions, derive internal topics, check parallelism.

Every problem is collected (not only the first) and reported with its location in the spec, e.g.
``operations[0].predicate: syntax error at column 15: ...``, so the gateway can answer 422 with all of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from processors.aggregations import aggregator_for
from processors.expressions import Expression, ExpressionCompileError, compile_expression
from processors.functions import FunctionRegistry, UnknownFunctionError
from processors.plan import (
    AggregateStage,
    FilterStep,
    MapStep,
    Plan,
    RouteCase,
    RouteStep,
    RuntimeConfig,
    SampleStep,
    Step,
    Topics,
)
from processors.selectors import Selector, compile_selector, parse_path
from processors.timestamps import TimestampRule
from processors.windows import WindowPolicy
from schemas import dead_letters
from schemas.processors import (
    AggregateOperation,
    FilterOperation,
    MapOperation,
    ProcessorSpec,
    RouteOperation,
    SampleOperation,
    WindowOperation,
)

# Part of the fingerprint, so plans compiled by an incompatible compiler never look equal to older ones.
PLAN_FORMAT = 1


@dataclass(frozen=True, slots=True)
class PlanIssue:
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class PlanError(ValueError):
    def __init__(self, issues: tuple[PlanIssue, ...]) -> None:
        super().__init__("; ".join(str(issue) for issue in issues))
        self.issues = issues


def dlq_topic(processor: str) -> str:
    return dead_letters.dlq_topic(processor)


def repartition_topic(processor: str) -> str:
    return f"{processor}.repartition"


def fingerprint(spec: ProcessorSpec, processor: str) -> str:
    """A stable hash of what the spec means: defaults are filled in and key order does not matter. Where a new
    processor starts reading is not part of it: it means nothing to window state."""
    meaning = spec.model_dump(mode="json", exclude={"config": {"start_from"}})
    document = {"format": PLAN_FORMAT, "processor": processor, "spec": meaning}
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


def check_processor(
    spec: ProcessorSpec, registry: FunctionRegistry, *, source_partitions: int | None = None
) -> tuple[PlanIssue, ...]:
    """Every problem ``compile_processor`` would raise, or an empty tuple."""
    try:
        compile_processor(spec, registry, source_partitions=source_partitions)
    except PlanError as exc:
        return exc.issues
    return ()


def compile_processor(
    spec: ProcessorSpec,
    registry: FunctionRegistry,
    *,
    processor: str | None = None,
    source_partitions: int | None = None,
) -> Plan:
    """Compile ``spec`` into a Plan, or raise PlanError listing every problem.

    ``processor`` is the prefix of internal topic names (default: the spec's name, giving ``<name>.dlq`` and
    ``<name>.repartition``). When ``source_partitions`` is given, ``config.parallelism`` is checked against it.
    """
    compiler = _Compiler(registry)
    steps: list[Step] = []
    before: tuple[Step, ...] = ()
    aggregate: AggregateStage | None = None
    window: tuple[int, WindowOperation] | None = None
    for index, op in enumerate(spec.operations):
        if isinstance(op, WindowOperation):
            window = (index, op)
        elif isinstance(op, AggregateOperation):
            before, steps = tuple(steps), []
            aggregate = compiler.aggregate(index, op, window)
        else:
            step = compiler.step(index, op, spec.sink)
            if step is not None:
                steps.append(step)
    after = tuple(steps)
    if aggregate is None:
        before, after = after, ()

    config = spec.config
    if source_partitions is not None and config.parallelism > source_partitions:
        compiler.issue(
            "config.parallelism",
            f"{config.parallelism} workers exceed the {source_partitions} partitions of source {spec.source!r}; "
            "each partition is read by one worker, so the extra workers would sit idle",
        )
    if compiler.issues:
        raise PlanError(tuple(compiler.issues))

    name = processor or spec.name
    route = next((step for step in (*before, *after) if isinstance(step, RouteStep)), None)
    routes = [] if route is None else [case.sink for case in route.cases]
    if route is not None and route.default is not None:
        routes.append(route.default)
    topics = Topics(
        source=spec.source,
        sink=spec.sink if route is None else None,
        routes=tuple(dict.fromkeys(routes)),
        dlq=dlq_topic(name),
        repartition=repartition_topic(name) if aggregate and _needs_repartition(before, aggregate) else None,
    )
    lookups = sorted(
        {
            table
            for step in (*before, *after)
            if isinstance(step, MapStep) and step.function is not None
            for table in step.function.lookups_for(step.args)
        }
    )
    return Plan(
        processor=name,
        name=spec.name,
        topics=topics,
        before=before,
        aggregate=aggregate,
        after=after,
        config=RuntimeConfig(config.parallelism, config.checkpoint_interval, config.guarantee),
        lookups=tuple(lookups),
        fingerprint=fingerprint(spec, name),
    )


def _needs_repartition(before: tuple[Step, ...], stage: AggregateStage) -> bool:
    # Only grouping by the untouched record key keeps every group on one partition already; a map function
    # returns a whole event and may change the key. `idleCloseAfter` needs the hop too: the runtime closes idle
    # windows by sending tick records through the repartition topic (state changes need an event in context).
    if stage.window is not None and stage.window.idle_close_after_ms is not None:
        return True
    by_record_key = stage.group_by.expression is not None and stage.group_by.text.strip() == "key"
    key_may_change = any(isinstance(step, MapStep) and step.function is not None for step in before)
    return not by_record_key or key_may_change


class _Compiler:
    def __init__(self, registry: FunctionRegistry) -> None:
        self.registry = registry
        self.issues: list[PlanIssue] = []

    def issue(self, location: str, message: str) -> None:
        self.issues.append(PlanIssue(location, message))

    def expression(self, location: str, source: str) -> Expression | None:
        try:
            return compile_expression(source)
        except ExpressionCompileError as exc:
            self.issue(location, str(exc))
            return None

    def selector(self, location: str, text: str) -> Selector | None:
        try:
            return compile_selector(text)
        except ExpressionCompileError as exc:
            self.issue(location, str(exc))
            return None

    def step(
        self, index: int, op: FilterOperation | MapOperation | SampleOperation | RouteOperation, sink: str | None
    ) -> Step | None:
        if isinstance(op, FilterOperation):
            predicate = self.expression(f"operations[{index}].predicate", op.predicate)
            return None if predicate is None else FilterStep(index, predicate, op.on_error)
        if isinstance(op, SampleOperation):
            return SampleStep(index, op.rate, op.by_key, op.on_error)
        if isinstance(op, RouteOperation):
            return self.route(index, op, sink)
        return self.map(index, op)

    def route(self, index: int, op: RouteOperation, sink: str | None) -> RouteStep | None:
        cases = []
        for number, case in enumerate(op.cases):
            predicate = self.expression(f"operations[{index}].cases[{number}].predicate", case.predicate)
            if predicate is not None:
                cases.append(RouteCase(predicate, case.sink))
        if len(cases) != len(op.cases):
            return None
        # The schema lets the top-level sink stand in for the route default (never both).
        return RouteStep(index, tuple(cases), op.default or sink, op.on_error)

    def map(self, index: int, op: MapOperation) -> MapStep | None:
        at = f"operations[{index}]"
        if op.expression is not None:
            expression = self.expression(f"{at}.expression", op.expression)
            return None if expression is None else MapStep(index, op.on_error, expression=expression)
        try:
            function = self.registry.get(op.function or "")
        except UnknownFunctionError as exc:
            self.issue(f"{at}.function", str(exc))
            return None
        problems = function.check_args(op.args)
        for problem in problems:
            self.issue(f"{at}.args", problem)
        return None if problems else MapStep(index, op.on_error, function=function, args=dict(op.args))

    def aggregate(
        self, index: int, op: AggregateOperation, window: tuple[int, WindowOperation] | None
    ) -> AggregateStage | None:
        at = f"operations[{index}]"
        group_by = self.selector(f"{at}.groupBy", op.group_by)
        field = None if op.field is None else self.selector(f"{at}.field", op.field)
        policy, timestamp = None, None
        if window is not None:
            window_index, window_op = window
            policy = _policy(window_op)
            if window_op.timestamp is not None:
                path = parse_path(window_op.timestamp.field)
                if not path:
                    self.issue(
                        f"operations[{window_index}].timestamp.field",
                        f"{window_op.timestamp.field!r} is not a field path such as 'event.time'",
                    )
                else:
                    timestamp = TimestampRule(path, window_op.timestamp.format)
        if group_by is None or (op.field is not None and field is None):
            return None
        return AggregateStage(
            index=index,
            aggregator=aggregator_for(op.aggregation),
            group_by=group_by,
            field=field,
            on_error=op.on_error,
            group_field=group_by.leaf or "groupKey",
            window=policy,
            window_index=None if window is None else window[0],
            window_on_error="dlq" if window is None else window[1].on_error,
            timestamp=timestamp,
        )


def _policy(op: WindowOperation) -> WindowPolicy:
    size = op.duration or 0
    advance = 0 if op.window_type == "session" else (op.advance or size)
    return WindowPolicy(
        kind=op.window_type,
        size_ms=size,
        advance_ms=advance,
        gap_ms=op.gap or 0,
        grace_ms=op.grace,
        emit=op.emit,
        idle_close_after_ms=op.idle_close_after,
    )

"""Per-event execution of a plan's stateless steps, and the keying that feeds its aggregate stage.

Nothing here raises for a bad event: every step returns an outcome, and a step's ``onError`` turns a failure into
``Dropped`` (skip), ``DeadLetter`` (dlq) or ``Failed`` (fail). The runtime only dispatches on the outcome type.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from processors.aggregations import AggregationError
from processors.events import Event
from processors.expressions import ExpressionEvaluationError
from processors.functions import FunctionError, Lookups
from processors.plan import FilterStep, MapStep, OnError, Plan, RouteStep, SampleStep, Step
from processors.timestamps import TimestampError
from schemas import dead_letters as dl

GroupKey = str | int | float | bool


@dataclass(frozen=True, slots=True)
class Passed:
    """The event went through. ``sink`` is set when a route chose it; otherwise the destination is the stage's
    default (the repartition topic or aggregate before an aggregate, the plan's sink after)."""

    event: Event
    sink: str | None = None


@dataclass(frozen=True, slots=True)
class Dropped:
    """Deliberately not passed on: ``filtered``, ``sampled`` out, ``unrouted`` (no case, no default), or
    ``skipped`` after an error under ``onError: skip``."""

    index: int
    reason: Literal["filtered", "sampled", "unrouted", "skipped"]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Send the event as received to ``plan.topics.dlq`` with ``dead_letter_headers``, then carry on."""

    index: int
    error: str


@dataclass(frozen=True, slots=True)
class Failed:
    """``onError: fail``: stop the processor and report it failed with this reason."""

    index: int
    error: str


Outcome = Passed | Dropped | DeadLetter | Failed


@dataclass(frozen=True, slots=True)
class Grouped:
    """An event ready for the aggregate: its group key, event time, and the datum to aggregate (None = ignored)."""

    event: Event
    group_key: GroupKey
    event_time_ms: int
    measure: Any


class _StepError(Exception):
    pass


def failure(index: int, on_error: OnError, error: str) -> Dropped | DeadLetter | Failed:
    """The outcome of an error at operation ``index`` under ``onError``."""
    if on_error == "skip":
        return Dropped(index, "skipped", error)
    if on_error == "fail":
        return Failed(index, error)
    return DeadLetter(index, error)


def _sample_point(step: SampleStep, event: Event) -> float:
    # A hash, not a random draw, so reprocessing after a restart (at-least-once) keeps the same events.
    if step.by_key:
        key = event.key
        if isinstance(key, bytes):
            material = key
        elif isinstance(key, str):
            material = key.encode()
        else:
            material = b"" if key is None else _canonical(key)
    else:
        material = f"{event.partition}:{event.offset}".encode()
    digest = hashlib.blake2b(material, digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _canonical(key: Any) -> bytes:
    try:
        return orjson.dumps(key, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return repr(key).encode()


def _map(step: MapStep, event: Event, lookups: Lookups) -> Event:
    if step.expression is not None:
        return dataclasses.replace(event, value=step.expression.evaluate(event))
    if step.function is None:
        raise _StepError("map step has neither function nor expression")
    try:
        result = step.function.apply(event, step.args, lookups)
    except (FunctionError, ExpressionEvaluationError):
        raise
    except Exception as exc:  # installed functions are third-party code, and one event must not stop a processor
        raise _StepError(f"{step.function.name} raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(result, Event):
        raise _StepError(f"{step.function.name} returned {type(result).__name__}, not an Event")
    return result


def run_steps(steps: tuple[Step, ...], event: Event, lookups: Lookups) -> Outcome:
    """Apply ``steps`` in order to ``event``."""
    sink: str | None = None
    for step in steps:
        try:
            if isinstance(step, FilterStep):
                if not step.predicate.test(event):
                    return Dropped(step.index, "filtered")
            elif isinstance(step, MapStep):
                event = _map(step, event, lookups)
            elif isinstance(step, SampleStep):
                if _sample_point(step, event) >= step.rate:
                    return Dropped(step.index, "sampled")
            else:
                sink = _route(step, event)
                if sink is None:
                    return Dropped(step.index, "unrouted")
        except (ExpressionEvaluationError, FunctionError, _StepError) as exc:
            return failure(step.index, step.on_error, str(exc))
    return Passed(event, sink)


def _route(step: RouteStep, event: Event) -> str | None:
    for case in step.cases:
        if case.predicate.test(event):
            return case.sink
    return step.default


class Executor:
    """Runs one plan for one worker. ``lookups`` maps a lookup table name (see ``plan.lookups``) to a live
    mapping of id → record, such as a table materialized from a compacted stream; it is read, never written."""

    def __init__(self, plan: Plan, lookups: Lookups | None = None) -> None:
        self.plan = plan
        self.lookups: Lookups = lookups if lookups is not None else {}

    def before_aggregate(self, event: Event) -> Outcome:
        """The steps before the aggregate, or the whole pipeline when there is none."""
        return run_steps(self.plan.before, event, self.lookups)

    def after_aggregate(self, event: Event) -> Outcome:
        """The steps applied to aggregate results (an event whose value is ``AggregateStage.result_value``)."""
        return run_steps(self.plan.after, event, self.lookups)

    def group(self, event: Event) -> Grouped | Dropped | DeadLetter | Failed:
        """Key an event for the aggregate stage. Pure, so the repartition side may call it again."""
        stage = self.plan.aggregate
        if stage is None:
            raise ValueError(f"processor {self.plan.name!r} has no aggregate")
        window_index = stage.index if stage.window_index is None else stage.window_index
        try:
            event_time = event.timestamp if stage.timestamp is None else stage.timestamp.extract(event)
        except TimestampError as exc:
            return failure(window_index, stage.window_on_error, str(exc))
        if event_time < 0:
            return failure(window_index, stage.window_on_error, f"timestamp {event_time} is before the epoch")
        try:
            key = stage.group_by.select(event)
            if key is None:
                raise _StepError(f"group key {stage.group_by.text!r} is null")
            if not isinstance(key, GroupKey):
                raise _StepError(f"group key must be a string, number or boolean, got {type(key).__name__}")
            # A count without a field counts records: any non-null measure does.
            measure = 1 if stage.field is None else stage.field.select(event)
            if measure is not None:
                stage.aggregator.check(measure)
        except (ExpressionEvaluationError, AggregationError, _StepError) as exc:
            return failure(stage.index, stage.on_error, str(exc))
        return Grouped(event, key, event_time, measure)


def dead_letter_headers(
    plan: Plan, event: Event, index: int, error: str, *, reason: str = dl.REASON_ERROR
) -> list[tuple[str, bytes]]:
    """Headers to add (after the record's own) to a dead letter: why, where in the plan, and where it came from
    (the format of ``schemas/dead_letters.py``). ``reason`` is ``error`` or ``late`` (an update to a closed
    window)."""
    fields: Mapping[str, Any] = {
        dl.REASON: reason,
        dl.ERROR: error,
        dl.PROCESSOR: plan.processor,
        dl.OPERATION_INDEX: index,
        dl.SOURCE_TOPIC: plan.topics.source,
        dl.SOURCE_PARTITION: event.partition,
        dl.SOURCE_OFFSET: event.offset,
        dl.SOURCE_TIMESTAMP: event.timestamp,
    }
    return [(name, str(value).encode()) for name, value in fields.items()]

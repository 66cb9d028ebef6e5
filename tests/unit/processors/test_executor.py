from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from processors.compiler import compile_processor
from processors.events import Event
from processors.executor import (
    DeadLetter,
    Dropped,
    Executor,
    Failed,
    Grouped,
    Passed,
    dead_letter_headers,
    run_steps,
)
from processors.functions import BUILTIN_FUNCTIONS, FunctionRegistry, Lookups, MapFunction
from processors.plan import Plan
from schemas.processors import ProcessorSpec
from tests.unit.processors.specs import seed_document, spec_document

USERS = {"users": {"u1": {"name": "Ada"}}}


def _explode(event: Event, args: Mapping[str, Any], lookups: Lookups) -> Event:
    raise RuntimeError("plugin bug")


def _not_an_event(event: Event, args: Mapping[str, Any], lookups: Lookups) -> Event:
    return event.value  # type: ignore[no-any-return]


REGISTRY = FunctionRegistry(
    [
        *BUILTIN_FUNCTIONS,
        MapFunction("explode", _explode),
        MapFunction("notAnEvent", _not_an_event),
    ]
)


def plan_of(*operations: dict[str, Any], **overrides: Any) -> Plan:
    return compile_processor(ProcessorSpec.model_validate(spec_document(*operations, **overrides)), REGISTRY)


def run(plan: Plan, event: Event) -> Any:
    return Executor(plan, USERS).before_aggregate(event)


def test_seed_pipeline_filters_and_enriches() -> None:
    executor = Executor(compile_processor(ProcessorSpec.model_validate(seed_document()), REGISTRY), USERS)

    small = executor.before_aggregate(Event({"userId": "u1", "amount": 10}))
    assert small == Dropped(0, "filtered")
    passed = executor.before_aggregate(Event({"userId": "u1", "amount": 5000}))
    assert isinstance(passed, Passed)
    assert passed.event.value == {"userId": "u1", "amount": 5000, "user": {"name": "Ada"}}
    assert passed.sink is None


@pytest.mark.parametrize(
    ("on_error", "expected"),
    [
        ("skip", Dropped(0, "skipped", "missing field evaluating 'value.amount > 1': no such key 'amount'")),
        ("dlq", DeadLetter(0, "missing field evaluating 'value.amount > 1': no such key 'amount'")),
        ("fail", Failed(0, "missing field evaluating 'value.amount > 1': no such key 'amount'")),
    ],
)
def test_on_error_semantics_are_outcomes(on_error: str, expected: Any) -> None:
    plan = plan_of({"type": "filter", "predicate": "value.amount > 1", "onError": on_error})

    assert run(plan, Event({})) == expected


def test_default_on_error_is_dlq() -> None:
    assert isinstance(run(plan_of({"type": "filter", "predicate": "value.a"}), Event({})), DeadLetter)


def test_errors_name_the_failing_operation_index() -> None:
    plan = plan_of({"type": "filter", "predicate": "true"}, {"type": "map", "expression": "value.a / value.b"})

    outcome = run(plan, Event({"a": 1, "b": 0}))
    assert isinstance(outcome, DeadLetter)
    assert outcome.index == 1
    assert "division by zero" in outcome.error


def test_map_expression_replaces_the_value_and_keeps_the_rest() -> None:
    plan = plan_of({"type": "map", "expression": '{"total": value.a + value.b, "k": key}'})

    outcome = run(plan, Event({"a": 1, "b": 2}, key="x", timestamp=7, partition=1, offset=3))
    assert outcome == Passed(Event({"total": 3, "k": "x"}, key="x", timestamp=7, partition=1, offset=3))


def test_map_function_errors_become_outcomes() -> None:
    outcome = run(plan_of({"type": "map", "function": "dropFields", "args": {"fields": ["a"]}}), Event("text"))
    assert outcome == DeadLetter(0, "dropFields needs an object value, got str")

    plugin = run(plan_of({"type": "map", "function": "explode"}), Event({}))
    assert plugin == DeadLetter(0, "explode raised RuntimeError: plugin bug")

    wrong = run(plan_of({"type": "map", "function": "notAnEvent"}), Event({}))
    assert wrong == DeadLetter(0, "notAnEvent returned dict, not an Event")


def test_later_steps_see_earlier_results() -> None:
    plan = plan_of(
        {"type": "map", "function": "renameFields", "args": {"fields": {"amt": "amount"}}},
        {"type": "filter", "predicate": "value.amount > 10"},
    )

    assert isinstance(run(plan, Event({"amt": 11})), Passed)
    assert run(plan, Event({"amt": 9})) == Dropped(1, "filtered")


def test_route_first_match_then_default() -> None:
    route = {
        "type": "route",
        "cases": [{"predicate": "value.vip", "sink": "vip"}, {"predicate": "value.amount > 100", "sink": "big"}],
        "default": "rest",
    }
    document = spec_document(route)
    del document["sink"]
    plan = compile_processor(ProcessorSpec.model_validate(document), REGISTRY)

    assert run(plan, Event({"vip": True, "amount": 500})).sink == "vip"
    assert run(plan, Event({"vip": False, "amount": 500})).sink == "big"
    assert run(plan, Event({"vip": False, "amount": 5})).sink == "rest"
    assert isinstance(run(plan, Event({"amount": 5})), DeadLetter)


def test_route_without_default_drops_unmatched_events() -> None:
    document = spec_document({"type": "route", "cases": [{"predicate": "value.vip", "sink": "vip"}]})
    del document["sink"]
    plan = compile_processor(ProcessorSpec.model_validate(document), REGISTRY)

    assert run(plan, Event({"vip": False})) == Dropped(0, "unrouted")


def test_sample_by_key_is_deterministic_and_close_to_the_rate() -> None:
    plan = plan_of({"type": "sample", "rate": 0.25, "byKey": True})
    kept = {f"user-{n}" for n in range(4000) if isinstance(run(plan, Event({}, key=f"user-{n}")), Passed)}

    assert 850 < len(kept) < 1150
    again = {f"user-{n}" for n in range(4000) if isinstance(run(plan, Event({}, key=f"user-{n}", offset=n)), Passed)}
    assert again == kept


def test_sample_by_position_depends_on_partition_and_offset() -> None:
    plan = plan_of({"type": "sample", "rate": 0.5})
    outcomes = [isinstance(run(plan, Event({}, key="same", offset=n)), Passed) for n in range(1000)]

    assert 400 < sum(outcomes) < 600
    assert outcomes == [isinstance(run(plan, Event({}, key="other", offset=n)), Passed) for n in range(1000)]


@pytest.mark.parametrize(("rate", "kept"), [(0.0, False), (1.0, True)])
def test_sample_extremes(rate: float, kept: bool) -> None:
    plan = plan_of({"type": "sample", "rate": rate, "byKey": True})

    assert all(isinstance(run(plan, Event({}, key=key)), Passed) is kept for key in ("a", b"b", None, 7, {"x": 1}))


def test_run_steps_with_no_steps_passes_the_event() -> None:
    event = Event({"a": 1})
    assert run_steps((), event, {}) == Passed(event)


class TestGroup:
    def executor(self, *operations: dict[str, Any]) -> Executor:
        return Executor(plan_of(*operations), USERS)

    def test_group_key_event_time_and_measure(self) -> None:
        executor = self.executor(
            {"type": "window", "windowType": "tumbling", "duration": 10, "timestamp": {"field": "at"}},
            {"type": "aggregate", "aggregation": "sum", "field": "amount", "groupBy": "userId"},
        )
        event = Event({"userId": "u1", "amount": 5, "at": 1234}, timestamp=99)

        assert executor.group(event) == Grouped(event, "u1", 1234, 5)

    def test_record_timestamp_is_the_default_event_time_and_count_counts_records(self) -> None:
        executor = self.executor({"type": "aggregate", "aggregation": "count", "groupBy": "key"})

        assert executor.group(Event(None, key="k", timestamp=5)) == Grouped(
            Event(None, key="k", timestamp=5), "k", 5, 1
        )

    def test_null_measure_is_passed_to_be_ignored(self) -> None:
        executor = self.executor({"type": "aggregate", "aggregation": "max", "field": "x", "groupBy": "g"})

        grouped = executor.group(Event({"g": 1}))
        assert isinstance(grouped, Grouped)
        assert grouped.measure is None

    @pytest.mark.parametrize(
        ("value", "index", "message"),
        [
            ({"g": None, "x": 1, "at": 1}, 1, "group key 'g' is null"),
            ({"g": [1], "x": 1, "at": 1}, 1, "group key must be a string, number or boolean, got list"),
            ({"g": "a", "x": "1", "at": 1}, 1, "sum needs numbers, got str"),
            ({"g": "a", "x": 1}, 0, "timestamp field 'at' is missing or null"),
            ({"g": "a", "x": 1, "at": "yesterday"}, 0, "expected a finite number"),
        ],
    )
    def test_failures_name_the_operation(self, value: dict[str, Any], index: int, message: str) -> None:
        executor = self.executor(
            {"type": "window", "windowType": "tumbling", "duration": 10, "timestamp": {"field": "at"}},
            {"type": "aggregate", "aggregation": "sum", "field": "x", "groupBy": "g"},
        )

        outcome = executor.group(Event(value))
        assert isinstance(outcome, DeadLetter)
        assert outcome.index == index
        assert message in outcome.error

    def test_window_and_aggregate_have_their_own_on_error(self) -> None:
        executor = self.executor(
            {"type": "window", "windowType": "tumbling", "duration": 10, "onError": "skip"},
            {"type": "aggregate", "aggregation": "count", "groupBy": "g", "onError": "fail"},
        )

        assert executor.group(Event({"g": "a"}, timestamp=-1)) == Dropped(
            0, "skipped", "timestamp -1 is before the epoch"
        )
        assert executor.group(Event({})) == Failed(1, "group key 'g' is null")

    def test_without_an_aggregate_group_is_a_programming_error(self) -> None:
        with pytest.raises(ValueError, match="has no aggregate"):
            Executor(plan_of({"type": "filter", "predicate": "true"})).group(Event({}))


def test_after_aggregate_applies_to_result_records() -> None:
    plan = plan_of(
        {"type": "window", "windowType": "tumbling", "duration": 10},
        {"type": "aggregate", "aggregation": "count", "groupBy": "g"},
        {"type": "filter", "predicate": "value['count'] >= 3"},
    )
    executor = Executor(plan)

    assert isinstance(executor.after_aggregate(Event({"g": "a", "count": 3})), Passed)
    assert executor.after_aggregate(Event({"g": "a", "count": 2})) == Dropped(2, "filtered")


def test_dead_letter_headers() -> None:
    plan = compile_processor(ProcessorSpec.model_validate(seed_document()), REGISTRY)
    event = Event({}, timestamp=1_767_225_600_000, partition=2, offset=41)
    headers = dict(dead_letter_headers(plan, event, 0, "boom"))

    assert headers == {
        "kafkagate-reason": b"error",
        "kafkagate-error": b"boom",
        "kafkagate-processor": b"fraud-detection",
        "kafkagate-operation-index": b"0",
        "kafkagate-source-topic": b"transactions",
        "kafkagate-source-partition": b"2",
        "kafkagate-source-offset": b"41",
        "kafkagate-source-timestamp": b"1767225600000",
    }

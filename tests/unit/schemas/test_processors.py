from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from schemas.processors import (
    AggregateOperation,
    FilterOperation,
    MapOperation,
    ProcessorSpec,
    RouteOperation,
    SampleOperation,
    WindowOperation,
)
from tests.unit.processors.specs import SEED_EXAMPLE, seed_document, spec_document

COUNT = {"type": "aggregate", "aggregation": "count", "groupBy": "userId"}


def invalid(document: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        ProcessorSpec.model_validate(document)
    return str(caught.value)


def test_seed_example_validates_as_written() -> None:
    spec = ProcessorSpec.model_validate_json(SEED_EXAMPLE)

    assert spec.name == "fraud-detection"
    assert [type(op) for op in spec.operations] == [FilterOperation, MapOperation, WindowOperation, AggregateOperation]
    window = spec.operations[2]
    assert isinstance(window, WindowOperation)
    assert (window.window_type, window.duration, window.grace, window.emit) == ("tumbling", 300000, 0, "changes")
    assert spec.config.parallelism == 4
    assert spec.config.checkpoint_interval == 60000
    assert spec.config.guarantee == "at_least_once"
    assert spec.config.start_from == "earliest"


def test_start_from_takes_earliest_or_latest() -> None:
    document = spec_document({"type": "filter", "predicate": "true"})
    document["config"] = {"startFrom": "latest"}
    assert ProcessorSpec.model_validate(document).config.start_from == "latest"
    document["config"] = {"startFrom": "now"}
    with pytest.raises(ValidationError):
        ProcessorSpec.model_validate(document)


def test_wire_names_are_camel_case_and_round_trip() -> None:
    spec = ProcessorSpec.model_validate(seed_document())
    dumped = spec.model_dump(mode="json")

    assert dumped["config"] == {
        "parallelism": 4,
        "checkpointInterval": 60000,
        "guarantee": "at_least_once",
        "startFrom": "earliest",
    }
    assert dumped["operations"][2]["windowType"] == "tumbling"
    assert dumped["operations"][3]["groupBy"] == "userId"
    assert ProcessorSpec.model_validate(dumped) == spec


def test_defaults() -> None:
    spec = ProcessorSpec.model_validate(spec_document({"type": "filter", "predicate": "true"}))

    assert spec.operations[0].on_error == "dlq"
    assert spec.config.parallelism == 1
    assert spec.config.guarantee == "at_least_once"


def test_size_is_an_alias_of_duration() -> None:
    window = {"type": "window", "windowType": "tumbling", "size": 1000}
    spec = ProcessorSpec.model_validate(spec_document(window, COUNT))

    assert isinstance(spec.operations[0], WindowOperation)
    assert spec.operations[0].duration == 1000
    both = {**window, "duration": 1000}
    assert "not both" in invalid(spec_document(both, COUNT))


def test_unknown_operation_type_and_unknown_fields_are_rejected() -> None:
    assert "does not match any of the expected tags" in invalid(spec_document({"type": "join"}))
    assert "Extra inputs are not permitted" in invalid(spec_document({"type": "filter", "predicate": "true", "x": 1}))


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"windowType": "hopping", "duration": 1000, "advance": 2000}, "advance (2000) must not exceed duration"),
        ({"windowType": "hopping", "duration": 1000}, "a hopping window needs advance"),
        ({"windowType": "tumbling"}, "a tumbling window needs duration"),
        ({"windowType": "tumbling", "duration": 10, "advance": 5}, "takes no advance"),
        ({"windowType": "session", "duration": 10, "gap": 5}, "takes gap, not duration"),
        ({"windowType": "session"}, "needs gap"),
        ({"windowType": "tumbling", "duration": 10, "gap": 5}, "gap applies to session windows"),
        ({"windowType": "tumbling", "duration": 0}, "greater than 0"),
        ({"windowType": "tumbling", "duration": 10, "grace": -1}, "greater than or equal to 0"),
        ({"windowType": "tumbling", "duration": "10"}, "valid integer"),
    ],
)
def test_window_rules(window: dict[str, Any], message: str) -> None:
    assert message in invalid(spec_document({"type": "window", **window}, COUNT))


def test_valid_windows() -> None:
    hopping = {"type": "window", "windowType": "hopping", "duration": 10, "advance": 10, "emit": "final"}
    session = {"type": "window", "windowType": "session", "gap": 5, "grace": 2, "idleCloseAfter": 100}
    timed = {
        "type": "window",
        "windowType": "tumbling",
        "duration": 10,
        "timestamp": {"field": "createdAt", "format": "iso8601"},
    }
    for window in (hopping, session, timed):
        ProcessorSpec.model_validate(spec_document(window, COUNT))


def test_numeric_aggregations_need_a_field() -> None:
    for aggregation in ("sum", "avg", "min", "max", "countDistinct"):
        assert "needs field" in invalid(spec_document({**COUNT, "aggregation": aggregation}))
    spec = ProcessorSpec.model_validate(spec_document({**COUNT, "aggregation": "sum", "field": "amount"}))
    assert isinstance(spec.operations[0], AggregateOperation)


def test_map_needs_exactly_one_of_function_and_expression() -> None:
    assert "exactly one" in invalid(spec_document({"type": "map"}))
    assert "exactly one" in invalid(spec_document({"type": "map", "function": "f", "expression": "value"}))
    assert "args apply to a map function" in invalid(
        spec_document({"type": "map", "expression": "1", "args": {"a": 1}})
    )


def test_window_must_be_followed_by_aggregate() -> None:
    window = {"type": "window", "windowType": "tumbling", "duration": 10}
    assert "operations[0]: a window must be followed directly by an aggregate" in invalid(spec_document(window))
    filter_op = {"type": "filter", "predicate": "true"}
    assert "operations[0]" in invalid(spec_document(window, filter_op, COUNT))


def test_one_window_and_one_aggregate_at_most() -> None:
    assert "at most one aggregate" in invalid(spec_document(COUNT, COUNT))


def test_sample_rate_is_bounded() -> None:
    assert "less than or equal to 1" in invalid(spec_document({"type": "sample", "rate": 1.5}))
    spec = ProcessorSpec.model_validate(spec_document({"type": "sample", "rate": 0.1, "byKey": True}))
    assert spec.operations[0] == SampleOperation(type="sample", rate=0.1, by_key=True)


def test_sink_is_optional_only_with_a_route() -> None:
    route = {"type": "route", "cases": [{"predicate": "value.vip", "sink": "vip"}], "default": "rest"}
    document = spec_document(route)
    del document["sink"]
    spec = ProcessorSpec.model_validate(document)
    assert isinstance(spec.operations[0], RouteOperation)

    no_sink = spec_document({"type": "filter", "predicate": "true"})
    del no_sink["sink"]
    assert "sink is required unless the last operation is a route" in invalid(no_sink)


def test_route_rules() -> None:
    route = {"type": "route", "cases": [{"predicate": "true", "sink": "a"}]}
    assert "route must be the last operation" in invalid(spec_document(route, {"type": "filter", "predicate": "1"}))
    assert "not both" in invalid(spec_document({**route, "default": "b"}))
    assert "at least 1 item" in invalid(spec_document({"type": "route", "cases": []}))


def test_processor_must_not_write_to_its_source() -> None:
    assert "must not write to its own source" in invalid(spec_document(sink="in"))
    route = {"type": "route", "cases": [{"predicate": "true", "sink": "in"}]}
    assert "must not write to its own source" in invalid(spec_document(route))


@pytest.mark.parametrize("name", ["", ".", "..", "has space", "a/b", "x" * 201])
def test_names_must_be_usable_in_topic_names(name: str) -> None:
    invalid(spec_document(name=name))


def test_strict_types() -> None:
    assert "valid integer" in invalid(spec_document(config={"parallelism": "4"}))
    assert "valid boolean" in invalid(spec_document({"type": "sample", "rate": 0.5, "byKey": "yes"}))
    assert "greater than or equal to 1" in invalid(spec_document(config={"parallelism": 0}))
    assert "Input should be 'at_least_once'" in invalid(spec_document(config={"guarantee": "exactly_once"}))

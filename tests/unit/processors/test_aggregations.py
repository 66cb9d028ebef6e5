from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import pytest

from processors.aggregations import AGGREGATORS, AggregationError, Aggregator, aggregator_for


def fold(aggregator: Aggregator, values: Iterable[Any], *, via_json: bool = True) -> Any:
    """Add ``values`` one by one, passing the state through orjson in between as a changelog would."""
    state = aggregator.initial()
    for value in values:
        state = aggregator.add(state, value)
        if via_json:
            state = orjson.loads(orjson.dumps(state))
    return state


def result(name: str, values: Iterable[Any]) -> Any:
    aggregator = aggregator_for(name)
    return aggregator.result(fold(aggregator, values))


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("count", [1, "a", {"x": 1}, None, 0], 4),
        ("sum", [1, 2, None, 3], 6),
        ("sum", [1, 2.5], 3.5),
        ("avg", [1, 2, None, 6], 3.0),
        ("min", [3, None, -1, 2.5], -1),
        ("max", [3, None, -1, 2.5], 3),
        ("min", ["pear", "apple"], "apple"),
        ("max", ["pear", "apple"], "pear"),
        ("countDistinct", ["a", "b", "a", None, 1, "1", {"k": 1}, {"k": 1}], 5),  # 1 and "1" differ
    ],
)
def test_results_ignore_nulls(name: str, values: list[Any], expected: Any) -> None:
    assert result(name, values) == expected


@pytest.mark.parametrize(
    ("name", "expected"), [("count", 0), ("sum", 0), ("avg", None), ("min", None), ("max", None), ("countDistinct", 0)]
)
def test_only_nulls(name: str, expected: Any) -> None:
    assert result(name, [None, None]) == expected


def test_count_distinct_ignores_key_order_in_objects() -> None:
    assert result("countDistinct", [{"a": 1, "b": 2}, {"b": 2, "a": 1}]) == 1


@pytest.mark.parametrize("name", sorted(AGGREGATORS))
def test_merge_equals_folding_everything(name: str) -> None:
    aggregator = aggregator_for(name)
    left_values = [5, 1, None, 7] if name not in {"min", "max"} else [5, 1, 7]
    right_values = [2, 9, 5]
    whole = fold(aggregator, left_values + right_values)
    merged = aggregator.merge(fold(aggregator, left_values), fold(aggregator, right_values))

    assert aggregator.result(merged) == aggregator.result(whole)
    assert aggregator.merge(aggregator.initial(), whole) == whole


@pytest.mark.parametrize("name", sorted(AGGREGATORS))
def test_state_is_json_round_trip_stable(name: str) -> None:
    aggregator = aggregator_for(name)
    state = fold(aggregator, [3, 1, 2], via_json=False)

    assert orjson.loads(orjson.dumps(state)) == state


def test_count_distinct_merge_deduplicates() -> None:
    aggregator = aggregator_for("countDistinct")
    merged = aggregator.merge(fold(aggregator, ["a", "b"]), fold(aggregator, ["b", "c"]))

    assert aggregator.result(merged) == 3


def test_extremes_merge_with_an_empty_side() -> None:
    for name in ("min", "max"):
        aggregator = aggregator_for(name)
        assert aggregator.merge(None, 4) == 4
        assert aggregator.merge(4, None) == 4


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("sum", "12"),
        ("sum", True),
        ("avg", [1]),
        ("avg", float("nan")),
        ("sum", float("inf")),
        ("min", {"a": 1}),
        ("max", False),
        ("countDistinct", object()),
    ],
)
def test_values_that_cannot_be_aggregated(name: str, value: Any) -> None:
    aggregator = aggregator_for(name)

    with pytest.raises(AggregationError):
        aggregator.check(value)
    with pytest.raises(AggregationError):
        aggregator.add(aggregator.initial(), value)


def test_extremes_do_not_order_across_types() -> None:
    aggregator = aggregator_for("max")
    with pytest.raises(AggregationError, match="cannot compare"):
        aggregator.add(fold(aggregator, [1]), "a")


def test_a_sum_beyond_64_bits_stays_serializable() -> None:
    state = fold(aggregator_for("sum"), [2**62, 2**62, 2**62])

    assert isinstance(state, float)
    assert state == pytest.approx(3 * 2**62)


def test_aggregators_compare_by_kind() -> None:
    assert aggregator_for("sum") == aggregator_for("sum")
    assert aggregator_for("sum") != aggregator_for("avg")
    with pytest.raises(KeyError):
        aggregator_for("median")

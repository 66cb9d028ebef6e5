from __future__ import annotations

from typing import Any

import pytest

from gateway.json_values import MAX_INTEGER, MIN_INTEGER, problem


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, MAX_INTEGER, MIN_INTEGER, 1.5e308, -0.0, "NaN", {"a": [1, {"b": "Infinity"}]}, [], {}],
)
def test_writable_values_pass(value: Any) -> None:
    assert problem(value) is None


@pytest.mark.parametrize(
    ("value", "pointer", "words"),
    [
        (float("inf"), "", "finite"),
        (float("nan"), "", "finite"),
        ({"a": [1, {"b/c": float("-inf")}]}, "/a/1/b~1c", "finite"),
        ([0, MAX_INTEGER + 1], "/1", "integer outside"),
        ({"x~": MIN_INTEGER - 1}, "/x~0", "integer outside"),
        ([1, float("nan"), 10**30], "/1", "finite"),  # the first in document order
    ],
)
def test_unwritable_values_are_named_by_json_pointer(value: Any, pointer: str, words: str) -> None:
    found = problem(value)
    assert found is not None
    assert found[0] == pointer
    assert words in found[1]


def test_a_deep_value_does_not_exhaust_the_stack() -> None:
    deep: Any = float("inf")
    for _ in range(100_000):
        deep = [deep]
    found = problem(deep)
    assert found is not None
    assert found[0] == "/0" * 100_000

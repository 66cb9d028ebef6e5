"""Incremental aggregations whose state is plain JSON data, so it can live in a table and survive an orjson round
trip unchanged. Null inputs are ignored, as in ksqlDB; ``merge`` combines two states (session windows merging).

Results: ``count`` and ``countDistinct`` are integers (0 when nothing counted); ``sum`` is 0 when nothing summed;
``avg``, ``min`` and ``max`` are null when every input was null.
"""

from __future__ import annotations

import bisect
import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import orjson

# orjson refuses integers outside 64 bits, so a sum that leaves that range is carried as a float.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class AggregationError(ValueError):
    """The input cannot be aggregated (wrong type, not finite); the aggregate step's onError decides."""


def _number(value: Any, name: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AggregationError(f"{name} needs numbers, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise AggregationError(f"{name} cannot aggregate {value}")
    return value


def _json_safe(total: int | float) -> int | float:
    if isinstance(total, int) and not _INT64_MIN <= total <= _INT64_MAX:
        return float(total)
    return total


class Aggregator(ABC):
    """One aggregation. Instances are stateless and compare equal by class; the state is passed in and out."""

    name: ClassVar[str]

    @abstractmethod
    def initial(self) -> Any: ...

    @abstractmethod
    def _add(self, state: Any, value: Any) -> Any: ...

    @abstractmethod
    def merge(self, left: Any, right: Any) -> Any: ...

    def check(self, value: Any) -> None:
        """Raise AggregationError if ``value`` could not be added; None always passes."""
        return

    def add(self, state: Any, value: Any) -> Any:
        """The state after ``value``; a null value leaves it unchanged. Raises AggregationError on bad input."""
        if value is None:
            return state
        self.check(value)
        return self._add(state, value)

    def result(self, state: Any) -> Any:
        return state

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Count(Aggregator):
    name = "count"

    def initial(self) -> int:
        return 0

    def _add(self, state: int, value: Any) -> int:
        return state + 1

    def merge(self, left: int, right: int) -> int:
        return left + right


class Sum(Aggregator):
    name = "sum"

    def initial(self) -> int:
        return 0

    def check(self, value: Any) -> None:
        _number(value, self.name)

    def _add(self, state: int | float, value: int | float) -> int | float:
        return _json_safe(state + value)

    def merge(self, left: int | float, right: int | float) -> int | float:
        return _json_safe(left + right)


class Average(Aggregator):
    name = "avg"

    def initial(self) -> dict[str, int | float]:
        return {"sum": 0, "count": 0}

    def check(self, value: Any) -> None:
        _number(value, self.name)

    def _add(self, state: dict[str, Any], value: int | float) -> dict[str, int | float]:
        return {"sum": _json_safe(state["sum"] + value), "count": state["count"] + 1}

    def merge(self, left: dict[str, Any], right: dict[str, Any]) -> dict[str, int | float]:
        return {"sum": _json_safe(left["sum"] + right["sum"]), "count": left["count"] + right["count"]}

    def result(self, state: dict[str, Any]) -> float | None:
        return state["sum"] / state["count"] if state["count"] else None


# Minimum or maximum over numbers or over strings, never a mix: neither CEL nor ksqlDB orders across types.
class _Extreme(Aggregator):
    pick: ClassVar[Any]

    def initial(self) -> None:
        return None

    def check(self, value: Any) -> None:
        if not isinstance(value, str):
            _number(value, self.name)

    def _add(self, state: Any, value: Any) -> Any:
        return self.merge(state, value)

    def merge(self, left: Any, right: Any) -> Any:
        if left is None or right is None:
            return right if left is None else left
        if isinstance(left, str) != isinstance(right, str):
            raise AggregationError(f"{self.name} cannot compare {type(left).__name__} with {type(right).__name__}")
        return type(self).pick(left, right)


class Minimum(_Extreme):
    name = "min"
    pick = min


class Maximum(_Extreme):
    name = "max"
    pick = max


class CountDistinct(Aggregator):
    """Exact distinct count. The state is the sorted list of distinct values in canonical JSON, so it grows with
    the number of distinct values per (key, window); ksqlDB's COUNT_DISTINCT is approximate instead."""

    name = "countDistinct"

    def initial(self) -> list[str]:
        return []

    def check(self, value: Any) -> None:
        try:
            orjson.dumps(value)
        except TypeError as exc:
            raise AggregationError(f"{self.name} cannot encode {type(value).__name__}: {exc}") from exc

    def _add(self, state: list[str], value: Any) -> list[str]:
        encoded = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
        position = bisect.bisect_left(state, encoded)
        if position < len(state) and state[position] == encoded:
            return state
        return [*state[:position], encoded, *state[position:]]

    def merge(self, left: list[str], right: list[str]) -> list[str]:
        return sorted(set(left) | set(right))

    def result(self, state: list[str]) -> int:
        return len(state)


AGGREGATORS: dict[str, Aggregator] = {
    aggregator.name: aggregator for aggregator in (Count(), Sum(), Average(), Minimum(), Maximum(), CountDistinct())
}


def aggregator_for(name: str) -> Aggregator:
    """The aggregator for a spec's ``aggregation`` name; raises KeyError for an unknown one."""
    return AGGREGATORS[name]

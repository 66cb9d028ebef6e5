"""Addressing data inside an event: dotted field paths into the value, or CEL for anything else."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from processors.events import Event
from processors.expressions import BOUND_VARIABLES, Expression, compile_expression

FieldPath = tuple[str, ...]

_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")


def parse_path(text: str) -> FieldPath | None:
    """``"user.id"`` → ``("user", "id")`` inside the value; a leading ``value.`` is optional. None if not a path."""
    if not _PATH.match(text):
        return None
    parts = tuple(text.split("."))
    return parts[1:] if parts[0] == "value" else parts


def get_path(value: Any, path: FieldPath) -> Any:
    """The value at ``path``, or None when any step is missing or not a mapping (missing reads as null)."""
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def has_path(value: Any, path: FieldPath) -> bool:
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return False
        value = value[part]
    return True


def with_path(value: Mapping[str, Any], path: FieldPath, new: Any) -> dict[str, Any]:
    """A copy of ``value`` with ``path`` set to ``new``; missing or non-mapping parents become objects."""
    head, rest = path[0], path[1:]
    copy = dict(value)
    if rest:
        child = value.get(head)
        copy[head] = with_path(child if isinstance(child, Mapping) else {}, rest, new)
    else:
        copy[head] = new
    return copy


def without_path(value: Mapping[str, Any], path: FieldPath) -> dict[str, Any]:
    """A copy of ``value`` without ``path``; copies only the parents along the path, shares everything else."""
    head, rest = path[0], path[1:]
    copy = dict(value)
    if not rest:
        copy.pop(head, None)
    elif isinstance(value.get(head), Mapping):
        copy[head] = without_path(value[head], rest)
    return copy


@dataclass(frozen=True, slots=True)
class Selector:
    """Reads one datum from an event: through a field path when the text is one (fast, no CEL), else CEL."""

    text: str
    path: FieldPath | None
    expression: Expression | None

    def select(self, event: Event) -> Any:
        if self.expression is not None:
            return self.expression.evaluate(event)
        return get_path(event.value, self.path or ())

    @property
    def leaf(self) -> str | None:
        """The last field name of a path selector, used to name the datum in output records."""
        return self.path[-1] if self.path else None


def compile_selector(text: str) -> Selector:
    """``userId``, ``user.id`` and ``value.user.id`` are field paths into the value; anything else is CEL.

    A bare name that is also a bound variable (``key``, ``timestamp``...) means that variable, so a value field
    with such a name is written ``value.key``. Raises ExpressionCompileError for invalid CEL.
    """
    path = parse_path(text)
    if path is not None and (text == "value" or text.startswith("value.") or path[0] not in BOUND_VARIABLES):
        return Selector(text=text, path=path, expression=None)
    return Selector(text=text, path=None, expression=compile_expression(text))

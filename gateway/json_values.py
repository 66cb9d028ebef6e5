"""JSON values the gateway passes on to Kafka: finite numbers and integers that fit in 64 bits.

pydantic's JSON parser reads `1e400` as infinity and accepts the `NaN`/`Infinity` literals (not JSON under
RFC 8259); orjson then writes a non-finite float as `null`, silently changing the event, and refuses integers
outside -2**63..2**64-1 with a TypeError. Checking the parsed value once, before anything is serialized, turns
both into a refusal that names the offending member instead of a corrupted record or a 500.

Duplicate object keys are not refused: every parser on the way (pydantic's, orjson) keeps the last one, and so
does the stored record.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

MIN_INTEGER = -(2**63)
MAX_INTEGER = 2**64 - 1


def _bad_number(item: object) -> str | None:
    if isinstance(item, float):
        return None if math.isfinite(item) else "is not a finite number (NaN, Infinity, or out of range like 1e400)"
    if isinstance(item, int) and not isinstance(item, bool) and not MIN_INTEGER <= item <= MAX_INTEGER:
        return f"is an integer outside {MIN_INTEGER}..{MAX_INTEGER}"
    return None


def _clean(value: Any) -> bool:
    # Iterative, so a deep value cannot exhaust the interpreter's stack; no paths kept, as nearly every value
    # passes (a failing one is walked again by `_first_problem` to name the member).
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind is float:
            if not math.isfinite(item):
                return False
        elif kind is int and not MIN_INTEGER <= item <= MAX_INTEGER:
            return False
    return True


def _first_problem(value: Any) -> tuple[str, str] | None:
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        pointer, item = pending.pop()
        if isinstance(item, dict):
            pending.extend((f"{pointer}/{_escape(str(k))}", v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            pending.extend((f"{pointer}/{i}", v) for i, v in reversed(list(enumerate(item))))
        else:
            found = _bad_number(item)
            if found is not None:
                return pointer, found
    return None


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


class UnwritableValue(ValueError):
    """`value` cannot be written as JSON unchanged: `pointer` says where in it, `message` what is wrong there."""

    def __init__(self, pointer: str, message: str):
        super().__init__(f"{pointer or '(the value)'} {message}")
        self.pointer, self.message = pointer, message


def encode(value: Any) -> bytes:
    """`value` as JSON bytes, or UnwritableValue when that would change it.

    The fast path is one `orjson.dumps`: it raises for integers beyond 64 bits, and writes a non-finite float as
    `null`, so output without any `null` proves every float finite and the value needs no walk (nearly always).
    """
    try:
        encoded = orjson.dumps(value)
    except TypeError:
        encoded = b"null"  # an integer out of range: find and name it below
    if b"null" in encoded and not _clean(value):
        found = _first_problem(value)
        pointer, message = found if found is not None else ("", "cannot be written as JSON")
        raise UnwritableValue(pointer, message)
    return encoded


def problem(value: Any) -> tuple[str, str] | None:
    """None when `value` can be written as JSON unchanged, else (JSON pointer into it, what is wrong there)."""
    try:
        encode(value)
    except UnwritableValue as exc:
        return exc.pointer, exc.message
    return None

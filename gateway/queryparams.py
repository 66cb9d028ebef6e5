"""Typed query parameters: a bad value is a 422 naming the parameter, never a 500."""

from __future__ import annotations

from starlette.datastructures import QueryParams

from gateway.errors import ValidationFailed
from schemas.events import timestamp_ms


def _invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"invalid query parameter {name!r}", [{"field": name, "message": message, "type": "query"}])


def integer(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    # ASCII digits only, as the document's `integer` says: `int` would also take "", " 5", "5_000" and non-ASCII digits.
    digits = raw.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise _invalid(name, f"must be an integer in {low}..{high}")
    value = int(raw)
    if not low <= value <= high:
        raise _invalid(name, f"must be an integer in {low}..{high}")
    return value


def boolean(params: QueryParams, name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in {"true", "1", "yes"}:
        return True
    if lowered in {"false", "0", "no"}:
        return False
    raise _invalid(name, "must be true or false")


def required(params: QueryParams, name: str) -> str:
    raw = params.get(name)
    if not raw:
        raise _invalid(name, "is required")
    return raw


def offset(params: QueryParams, name: str = "offset") -> str | int | None:
    """`earliest`, `latest`, a non-negative number, or None when absent."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw in {"earliest", "latest"}:
        return raw
    if raw.isdigit():
        return int(raw)
    raise _invalid(name, "must be earliest, latest or a non-negative offset")


def timestamp(params: QueryParams, name: str = "timestamp") -> int:
    raw = required(params, name)
    try:
        return timestamp_ms(int(raw) if raw.isdigit() else raw)
    except ValueError as exc:
        raise _invalid(name, str(exc)) from None

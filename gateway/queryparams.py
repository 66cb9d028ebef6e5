"""Typed query parameters: a bad value is a 422 naming the parameter, never a 500. A parameter given more than once
is a 422 too: the document declares each as one value, and reading only the first or the last would act on a
value the caller may not have meant."""

from __future__ import annotations

from starlette.datastructures import QueryParams

from gateway.errors import ValidationFailed
from schemas.events import timestamp_ms

MAX_OFFSET = 2**63 - 1  # Kafka's offsets are int64


def _invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"invalid query parameter {name!r}", [{"field": name, "message": message, "type": "query"}])


def single(params: QueryParams, name: str) -> str | None:
    """The one value of `name`, or None when it is absent."""
    values = params.getlist(name)
    if len(values) > 1:
        raise _invalid(name, f"is given {len(values)} times; give it once")
    return values[0] if values else None


def _ascii_digits(raw: str) -> bool:
    # `str.isdigit` also takes other scripts' digits ("٣", which `int` reads as 3) and superscripts ("²", which
    # `int` refuses).
    return raw.isascii() and raw.isdigit()


def integer(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    raw = single(params, name)
    if raw is None:
        return default
    # ASCII digits only, as the document's `integer` says: `int` would also take "", " 5", "5_000" and non-ASCII digits.
    if not _ascii_digits(raw.removeprefix("-")):
        raise _invalid(name, f"must be an integer in {low}..{high}")
    value = int(raw)
    if not low <= value <= high:
        raise _invalid(name, f"must be an integer in {low}..{high}")
    return value


def boolean(params: QueryParams, name: str, default: bool) -> bool:
    raw = single(params, name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in {"true", "1", "yes"}:
        return True
    if lowered in {"false", "0", "no"}:
        return False
    raise _invalid(name, "must be true or false")


def required(params: QueryParams, name: str) -> str:
    raw = single(params, name)
    if not raw:
        raise _invalid(name, "is required")
    return raw


def offset(params: QueryParams, name: str = "offset") -> str | int | None:
    """`earliest`, `latest`, a non-negative number, or None when absent."""
    raw = single(params, name)
    if raw is None or raw == "":
        return None
    if raw in {"earliest", "latest"}:
        return raw
    if _ascii_digits(raw) and int(raw) <= MAX_OFFSET:
        return int(raw)
    raise _invalid(name, f"must be earliest, latest or an offset in 0..{MAX_OFFSET}")


def timestamp(params: QueryParams, name: str = "timestamp") -> int:
    raw = required(params, name)
    try:
        return timestamp_ms(int(raw) if _ascii_digits(raw) else raw)
    except ValueError as exc:
        raise _invalid(name, str(exc)) from None

"""The event times of the lake: a collect request's `timestamp` and the raw event's `received_at`.

Pure code importing no lake library, so the gateway checks a collected event's time without loading pyiceberg.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 date-time with its offset, as an aware UTC datetime; ValueError otherwise."""
    if not isinstance(text, str) or "T" not in text.upper():
        raise ValueError(f"{text!r} is not an RFC 3339 date-time")
    parsed = datetime.fromisoformat(text.replace("z", "Z"))
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return parsed.astimezone(UTC)

"""Timestamps on the wire: ISO 8601 UTC with millisecond precision, e.g. `2025-01-15T10:30:00.123Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_ms(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def now_ms() -> int:
    return int(datetime.now(tz=UTC).timestamp() * 1000)


def now_iso() -> str:
    return iso_ms(now_ms())

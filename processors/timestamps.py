"""Event time taken from a field of the value instead of the record timestamp."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from processors.events import Event
from processors.selectors import FieldPath, get_path

TimestampFormat = Literal["epoch_ms", "epoch_s", "iso8601"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


class TimestampError(ValueError):
    pass


def to_epoch_ms(raw: Any, fmt: TimestampFormat) -> int:
    """Convert ``raw`` to epoch milliseconds. Epoch formats take JSON numbers only (a numeric string is an error,
    as in ksqlDB's BIGINT timestamps); ``iso8601`` without an offset is read as UTC. Negative results are errors,
    because Kafka record timestamps cannot carry them."""
    if fmt == "iso8601":
        if not isinstance(raw, str):
            raise TimestampError(f"expected an ISO 8601 string, got {type(raw).__name__}")
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise TimestampError(f"not an ISO 8601 timestamp: {raw!r}") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        millis = (moment - _EPOCH) // _MILLISECOND
    else:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise TimestampError(f"expected a finite number for {fmt}, got {raw!r}")
        millis = int(raw) if fmt == "epoch_ms" else round(raw * 1000)
    if millis < 0:
        raise TimestampError(f"timestamp {raw!r} is before the epoch")
    return millis


@dataclass(frozen=True, slots=True)
class TimestampRule:
    """Where a window reads event time: ``path`` inside the value, in ``format``."""

    path: FieldPath
    format: TimestampFormat

    def extract(self, event: Event) -> int:
        raw = get_path(event.value, self.path)
        if raw is None:
            raise TimestampError(f"timestamp field {'.'.join(self.path)!r} is missing or null")
        return to_epoch_ms(raw, self.format)

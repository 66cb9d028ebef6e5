"""The producers' buffer and their tally. Pure: time is passed in, futures are whatever the caller resolves.

Events are encoded once, when they are sent, so the buffer knows the request body's exact size and a batch is
cut before it would pass `max_bytes` (the gateway refuses bodies over `KAFKAGATE_MAX_BODY_BYTES`, 1 MiB by
default, with 413).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import orjson

from kafkagate.client.errors import ApiError, KafkagateError, ValidationFailed
from kafkagate.client.models import BatchResult, Failed, Published

F = TypeVar("F")
_EVENT_FIELD = re.compile(r"^events\.(\d+)(?:\.|$)")
_ENVELOPE_BYTES = len(b'{"events":[]}')


@dataclass(frozen=True, slots=True)
class Pending(Generic[F]):
    encoded: bytes
    future: F
    added_at: float


class Buffer(Generic[F]):
    def __init__(self, max_events: int, max_bytes: int) -> None:
        if max_events < 1 or max_bytes < 1:
            raise ValueError("max_events and max_bytes must be positive")
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._items: list[Pending[F]] = []
        self._bytes = _ENVELOPE_BYTES

    def __len__(self) -> int:
        return len(self._items)

    def add(self, encoded: bytes, future: F, now: float) -> None:
        self._items.append(Pending(encoded, future, now))
        self._bytes += len(encoded) + 1

    def full(self) -> bool:
        return len(self._items) >= self.max_events or self._bytes >= self.max_bytes

    def due(self, now: float, linger_s: float) -> bool:
        """Full, or holding an event that has waited `linger_s`."""
        return bool(self._items) and (self.full() or now - self._items[0].added_at >= linger_s)

    def oldest_at(self) -> float | None:
        return self._items[0].added_at if self._items else None

    def take(self) -> list[Pending[F]]:
        """The next batch: at most `max_events`, and within `max_bytes` unless one event alone is larger."""
        size, count = _ENVELOPE_BYTES, 0
        for item in self._items[: self.max_events]:
            if count and size + len(item.encoded) + 1 > self.max_bytes:
                break
            size += len(item.encoded) + 1
            count += 1
        batch, self._items = self._items[:count], self._items[count:]
        self._bytes -= size - _ENVELOPE_BYTES
        return batch


def batch_body(encoded: Sequence[bytes], *, compression: str | None = None, timeout_ms: int | None = None) -> bytes:
    """The body of `POST .../events/batch` from already encoded events."""
    body = b'{"events":[' + b",".join(encoded) + b"]"
    options: dict[str, object] = {}
    if compression is not None:
        options["compression"] = compression
    if timeout_ms is not None:
        options["timeout"] = timeout_ms
    if options:
        body += b',"options":' + orjson.dumps(options)
    return body + b"}"


@dataclass
class ProduceStats:
    """What a producer has done so far. `failed` counts events by symbolic error (`STREAM_NOT_FOUND`, ...,
    `TRANSPORT` when the gateway could not be reached)."""

    sent: int = 0
    published: int = 0
    dead_lettered: int = 0
    batches: int = 0
    failed: Counter[str] = field(default_factory=Counter)

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())

    @property
    def done(self) -> int:
        return self.published + self.dead_lettered + self.failed_total

    def record(self, result: BatchResult) -> None:
        self.batches += 1
        for item in result.results:
            if isinstance(item, Failed):
                self.failed[item.error] += 1
            elif item.status == "dead-lettered":
                self.dead_lettered += 1
            else:
                self.published += 1

    def record_error(self, error: KafkagateError, events: int) -> None:
        self.batches += 1
        self.failed[error.error if isinstance(error, ApiError) else "TRANSPORT"] += events


@dataclass(frozen=True)
class BatchOutcome:
    """Told to a producer's `on_batch` after each request: its results, or the error that failed all `events`."""

    events: int
    result: BatchResult | None = None
    error: KafkagateError | None = None

    def items(self) -> list[Published | Failed] | None:
        return None if self.result is None else self.result.results


def rejected_events(error: ValidationFailed, size: int) -> dict[int, list[dict[str, object]]] | None:
    """Which events of a batch a 422 names (`events.<i>....` fields), with their field errors; None when some
    error is not about one event, so the batch as a whole was refused."""
    found: dict[int, list[dict[str, object]]] = {}
    for item in error.errors:
        match = _EVENT_FIELD.match(str(item.get("field", "")))
        if match is None or int(match.group(1)) >= size:
            return None
        found.setdefault(int(match.group(1)), []).append(item)
    return found or None


def rejection(index: int, error: ValidationFailed, errors: list[dict[str, object]]) -> Failed:
    """The failure entry of one event a batch's 422 named."""
    return Failed(
        index=index, status="failed", code=error.code or 0, error=error.error, message=error.detail, errors=errors
    )

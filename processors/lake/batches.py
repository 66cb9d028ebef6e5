"""Micro-batches of the lake sink, one per dataset, and the consumer offsets that are safe to commit.

Pure bookkeeping, no I/O. A batch holds rows bound for one table together with the raw stream positions they
came from; the sink commits a batch to Iceberg when it is due (`flush_rows` rows, or `flush_interval_s` after
its first row) with the offsets it covers, and commits a raw partition's consumer offset only up to the first
row some batch still holds, so the consumer group never gets ahead of what Iceberg (or the dead-letter
stream) has.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

TopicPartitionKey = tuple[str, int]
OFFSETS_PROPERTY = "kafkagate.offsets"  # snapshot summary: {"<topic>": {"<partition>": next offset}}


@dataclass(frozen=True, slots=True)
class Pending:
    """One event on its way to one table: its row, and where it was read."""

    event_id: str
    topic: str
    partition: int
    offset: int
    row: dict[str, Any]


@dataclass
class DatasetBatch:
    opened_at: float
    events: list[Pending] = field(default_factory=list)
    _ids: set[str] = field(default_factory=set)
    _firsts: dict[TopicPartitionKey, int] = field(default_factory=dict)

    def add(self, pending: Pending) -> bool:
        """Take `pending` unless its event_id is already in the batch (the first one wins)."""
        if pending.event_id in self._ids:
            return False
        self._ids.add(pending.event_id)
        self.events.append(pending)
        # Events of one partition arrive in offset order: the first one seen is the lowest.
        self._firsts.setdefault((pending.topic, pending.partition), pending.offset)
        return True

    def due(self, now: float, interval_s: float, max_rows: int) -> bool:
        return len(self.events) >= max_rows or (bool(self.events) and now - self.opened_at >= interval_s)

    def first_offsets(self) -> dict[TopicPartitionKey, int]:
        """The lowest offset the batch holds, per raw partition."""
        return self._firsts


def covered(events: Iterable[Pending]) -> dict[TopicPartitionKey, int]:
    """The next offset after the last of `events`, per raw partition."""
    found: dict[TopicPartitionKey, int] = {}
    for event in events:
        key = (event.topic, event.partition)
        found[key] = max(found.get(key, 0), event.offset + 1)
    return found


def decode_offsets(text: str | None) -> dict[TopicPartitionKey, int]:
    """The offsets a snapshot summary names; an absent or malformed property names none."""
    if not text:
        return {}
    try:
        document = orjson.loads(text)
        return {(topic, int(p)): int(o) for topic, parts in document.items() for p, o in parts.items()}
    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
        return {}


def encode_offsets(offsets: dict[TopicPartitionKey, int]) -> str:
    document: dict[str, dict[str, int]] = {}
    for (topic, partition), offset in sorted(offsets.items()):
        document.setdefault(topic, {})[str(partition)] = offset
    return orjson.dumps(document).decode()


def merged(committed: dict[TopicPartitionKey, int], new: dict[TopicPartitionKey, int]) -> dict[TopicPartitionKey, int]:
    """`committed` moved forward by `new` (never back)."""
    result = dict(committed)
    for key, offset in new.items():
        result[key] = max(result.get(key, 0), offset)
    return result


def fresh(events: Iterable[Pending], committed: dict[TopicPartitionKey, int]) -> list[Pending]:
    """The events a table has not committed yet: those at or after its committed offset for their partition."""
    return [e for e in events if e.offset >= committed.get((e.topic, e.partition), 0)]


class Progress:
    """Per raw partition: how far the sink has read and which offsets it may commit to its consumer group."""

    def __init__(self) -> None:
        self.read: dict[TopicPartitionKey, int] = {}

    def advance(self, topic: str, partition: int, offset: int) -> None:
        self.read[(topic, partition)] = offset + 1

    def forget(self, keys: Iterable[TopicPartitionKey]) -> None:
        for key in keys:
            self.read.pop(key, None)

    def committable(self, held: Iterable[dict[TopicPartitionKey, int]]) -> dict[TopicPartitionKey, int]:
        """Offsets to commit: what was read, held back to the first offset any unflushed batch still holds."""
        result = dict(self.read)
        for firsts in held:
            for key, offset in firsts.items():
                if key in result:
                    result[key] = min(result[key], offset)
        return result

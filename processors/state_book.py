"""What a worker publishes about its aggregates for queries (pure: no faust, no Kafka).

The book follows each aggregate partition's keys (their windows' current results), its stream time and the
source offsets it applied, and each source partition's stage-1 progress; `drain` hands back the records that
changed since the last call, key records first (see `schemas.processor_state` for the layout and why the order
matters). Closed windows stay in a key's record for `CLOSED_KEPT_MS` of stream time after they closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from processors.aggregate_store import Result
from processors.windows import WindowPolicy
from schemas.processor_state import CLOSED_KEPT_MS, aggregate_record, key_record, source_record

Record = tuple[str, bytes | None]  # (record key, value; None deletes)


@dataclass
class _Partition:
    keys: dict[str, dict[int | None, dict[str, Any]]] = field(default_factory=dict)  # json key -> start -> window
    group_keys: dict[str, Any] = field(default_factory=dict)
    stream_time: int | None = None
    applied: dict[int, int] = field(default_factory=dict)


class StateBook:
    def __init__(self, processor_id: str, policy: WindowPolicy | None, kept_ms: int = CLOSED_KEPT_MS):
        self.processor_id = processor_id
        self.policy = policy
        self.kept_ms = kept_ms
        self._partitions: dict[int, _Partition] = {}
        self._sources: dict[int, tuple[int, dict[int, int]]] = {}
        self._dirty_keys: set[tuple[int, str]] = set()
        self._dirty_partitions: set[int] = set()
        self._dirty_sources: set[int] = set()

    def _partition(self, partition: int) -> _Partition:
        return self._partitions.setdefault(partition, _Partition())

    def _window(self, result: Result) -> dict[str, Any]:
        window = result.window
        closes_at = None if window is None or self.policy is None else self.policy.close_time(window)
        return {
            "start": None if window is None else window.start,
            "end": None if window is None else window.end,
            "closesAt": closes_at,
            "value": result.value,
        }

    # --- what happened ------------------------------------------------------------------------------------

    def results(self, partition: int, results: Iterable[Result]) -> None:
        """The current results of some of a partition's windows (after an event, a restore, or a close)."""
        book = self._partition(partition)
        for result in results:
            name = orjson.dumps(result.group_key).decode()
            windows = book.keys.setdefault(name, {})
            book.group_keys[name] = result.group_key
            entry = self._window(result)
            if self.policy is not None and self.policy.kind == "session" and result.window is not None:
                # A session absorbs the sessions it overlaps: they are no longer windows of their own.
                for start in [s for s, w in windows.items() if w["start"] is not None and s != result.window.start]:
                    if windows[start]["start"] <= result.window.end and windows[start]["end"] >= result.window.start:
                        del windows[start]
            windows[entry["start"]] = entry
            self._dirty_keys.add((partition, name))

    def progress(self, partition: int, stream_time: int | None, source_partition: int, source_offset: int) -> None:
        book = self._partition(partition)
        book.stream_time = stream_time
        book.applied[source_partition] = max(book.applied.get(source_partition, -1), source_offset)
        self._dirty_partitions.add(partition)

    def handled(self, source_partition: int, offset: int, forwarded: dict[int, int] | None = None) -> None:
        """Stage 1 handled `offset`; `forwarded` holds the last source offset it forwarded to each aggregate
        partition (merged into what is known)."""
        _, known = self._sources.get(source_partition, (-1, {}))
        merged = {**known, **(forwarded or {})}
        self._sources[source_partition] = (offset, merged)
        self._dirty_sources.add(source_partition)

    def forget(self, partition: int) -> None:
        """The partition moved to another worker, which publishes it from now on."""
        self._partitions.pop(partition, None)
        self._dirty_keys = {(p, k) for p, k in self._dirty_keys if p != partition}
        self._dirty_partitions.discard(partition)

    def mark_all(self) -> None:
        """Publish everything again (the last publication may have been lost)."""
        for partition, book in self._partitions.items():
            self._dirty_keys.update((partition, name) for name in book.keys)
            self._dirty_partitions.add(partition)
        self._dirty_sources.update(self._sources)

    # --- what to publish ----------------------------------------------------------------------------------

    def drain(self, now_ms: int) -> list[Record]:
        records: list[Record] = []
        for partition, name in sorted(self._dirty_keys):
            book = self._partitions[partition]
            windows = book.keys.get(name, {})
            if book.stream_time is not None:
                expired = [s for s, w in windows.items() if w["closesAt"] is not None]
                for start in expired:
                    if windows[start]["closesAt"] + self.kept_ms < book.stream_time:
                        del windows[start]
            record = key_record(self.processor_id, book.group_keys[name])
            if not windows:
                book.keys.pop(name, None)
                records.append((record, None))
                continue
            ordered = [windows[s] for s in sorted(windows, key=lambda s: -1 if s is None else s)]
            document = {"partition": partition, "key": book.group_keys[name], "windows": ordered}
            records.append((record, orjson.dumps(document)))
        for partition in sorted(self._dirty_partitions):
            book = self._partitions[partition]
            progress = {
                "partition": partition,
                "streamTime": book.stream_time,
                "applied": book.applied,
                "publishedAtMs": now_ms,
            }
            records.append((aggregate_record(self.processor_id, partition), orjson.dumps(progress, option=_KEYS)))
        for source in sorted(self._dirty_sources):
            handled, forwarded = self._sources[source]
            document = {"partition": source, "handled": handled, "forwarded": forwarded, "publishedAtMs": now_ms}
            records.append((source_record(self.processor_id, source), orjson.dumps(document, option=_KEYS)))
        self._dirty_keys.clear()
        self._dirty_partitions.clear()
        self._dirty_sources.clear()
        return records


_KEYS = orjson.OPT_NON_STR_KEYS

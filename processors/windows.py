"""Window maths, following ksqlDB. All times are epoch milliseconds.

- Tumbling and hopping windows are epoch-aligned and half-open, ``[start, end)``; an event belongs to every
  hopping window that contains it. No window starts before the epoch.
- Session windows are closed, ``[start, end]`` with ``end`` the last event's time. An event joins every session
  within ``gap`` of it, which merges sessions it bridges.
- Stream time is the largest event time seen on a partition; it never goes back.
- A time window closes once stream time > end + grace. A session closes once stream time > end + gap + grace: until
  then an in-order event may still extend it. An update to a closed window is late; the caller counts and
  dead-letters it, and a final result never changes.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

WindowType = Literal["tumbling", "hopping", "session"]
EmitMode = Literal["changes", "final"]

Item = TypeVar("Item", bound=Hashable)


@dataclass(frozen=True, slots=True, order=True)
class Window:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class WindowPolicy:
    """How events map to windows and when windows close. Build it with ``tumbling``, ``hopping`` or ``session``.

    ``emit="changes"`` sends a result on every update; ``"final"`` sends one per (key, window) once it closes,
    trading latency (at least the grace period) for a single, settled answer. ``idle_close_after_ms`` lets the
    runtime advance an idle partition's stream time by wall-clock time, so its last windows still close.
    """

    kind: WindowType
    size_ms: int = 0
    advance_ms: int = 0
    gap_ms: int = 0
    grace_ms: int = 0
    emit: EmitMode = "changes"
    idle_close_after_ms: int | None = None

    def __post_init__(self) -> None:
        if self.kind == "session":
            if self.gap_ms <= 0:
                raise ValueError("a session window needs a positive gap")
        elif self.size_ms <= 0 or not 0 < self.advance_ms <= self.size_ms:
            raise ValueError("a time window needs 0 < advance <= size")
        if self.grace_ms < 0:
            raise ValueError("grace must not be negative")

    @classmethod
    def tumbling(cls, size_ms: int, *, grace_ms: int = 0, emit: EmitMode = "changes") -> WindowPolicy:
        return cls("tumbling", size_ms=size_ms, advance_ms=size_ms, grace_ms=grace_ms, emit=emit)

    @classmethod
    def hopping(cls, size_ms: int, advance_ms: int, *, grace_ms: int = 0, emit: EmitMode = "changes") -> WindowPolicy:
        return cls("hopping", size_ms=size_ms, advance_ms=advance_ms, grace_ms=grace_ms, emit=emit)

    @classmethod
    def session(cls, gap_ms: int, *, grace_ms: int = 0, emit: EmitMode = "changes") -> WindowPolicy:
        return cls("session", gap_ms=gap_ms, grace_ms=grace_ms, emit=emit)

    def assign(self, timestamp_ms: int) -> tuple[Window, ...]:
        """The windows an event at ``timestamp_ms`` belongs to, oldest first. For sessions, the event's own
        one-point session; merge it with the key's existing sessions through ``merge_session``."""
        if timestamp_ms < 0:
            raise ValueError(f"timestamp {timestamp_ms} is before the epoch")
        if self.kind == "session":
            return (Window(timestamp_ms, timestamp_ms),)
        last_start = timestamp_ms - timestamp_ms % self.advance_ms
        # The oldest window still containing the event starts after timestamp - size; round that up to the grid.
        first_start = max(0, -(-(timestamp_ms - self.size_ms + 1) // self.advance_ms) * self.advance_ms)
        starts = range(first_start, last_start + 1, self.advance_ms)
        return tuple(Window(start, start + self.size_ms) for start in starts)

    def close_time(self, window: Window) -> int:
        """The window is closed once stream time is greater than this."""
        if self.kind == "session":
            return window.end + self.gap_ms + self.grace_ms
        return window.end + self.grace_ms

    def is_closed(self, window: Window, stream_time_ms: int) -> bool:
        return stream_time_ms > self.close_time(window)

    def is_late(self, window: Window, stream_time_ms: int) -> bool:
        """Whether an update to ``window`` (for sessions: the merged session) must be refused.

        For time windows this is ``is_closed``. For sessions the event itself must be within grace of stream time
        (as in Kafka Streams): only an in-order event may extend a session during its gap.
        """
        if self.kind == "session":
            return stream_time_ms > window.end + self.grace_ms
        return self.is_closed(window, stream_time_ms)

    def result_timestamp(self, window: Window) -> int:
        """Timestamp of a result record: the last instant inside the window."""
        return window.end if self.kind == "session" else window.end - 1

    @property
    def emits_changes(self) -> bool:
        return self.emit == "changes"

    @property
    def emits_final(self) -> bool:
        return self.emit == "final"


@dataclass(frozen=True, slots=True)
class SessionMerge:
    window: Window
    absorbed: tuple[Window, ...]


def merge_session(timestamp_ms: int, sessions: Iterable[Window], gap_ms: int) -> SessionMerge:
    """The session an event at ``timestamp_ms`` ends up in, given one key's existing ``sessions``.

    ``absorbed`` lists the existing sessions folded into it (delete their state after merging their aggregates
    into the new window's); it is empty when the event opens a new session, and holds the one session it extends
    in place otherwise. Sessions within ``gap_ms`` on either side merge (inclusive, as in ksqlDB).
    """
    touching = tuple(sorted(s for s in sessions if s.start - gap_ms <= timestamp_ms <= s.end + gap_ms))
    start = min([timestamp_ms, *(s.start for s in touching)])
    end = max([timestamp_ms, *(s.end for s in touching)])
    return SessionMerge(Window(start, end), touching)


class StreamClock:
    """Stream time per partition. State round-trips through ``state()`` (JSON-safe) for storage in a table."""

    def __init__(self, state: Mapping[str, int] | None = None) -> None:
        self._time: dict[int, int] = {int(p): int(t) for p, t in (state or {}).items()}
        self._seen_at_wall: dict[int, int] = {}

    def observe(self, partition: int, timestamp_ms: int, wall_ms: int | None = None) -> int:
        """Record an event; returns the partition's stream time, which includes this event."""
        current = max(self._time.get(partition, timestamp_ms), timestamp_ms)
        self._time[partition] = current
        if wall_ms is not None:
            self._seen_at_wall[partition] = wall_ms
        return current

    def time(self, partition: int) -> int | None:
        return self._time.get(partition)

    def advance_if_idle(self, partition: int, wall_ms: int, idle_after_ms: int) -> int | None:
        """If no event reached ``partition`` for ``idle_after_ms`` of wall-clock time, move its stream time on by the
        wall-clock time elapsed and return it; else None. Events older than the new stream time are then late."""
        last_wall = self._seen_at_wall.get(partition)
        current = self._time.get(partition)
        if last_wall is None or current is None or wall_ms - last_wall < idle_after_ms:
            return None
        self._time[partition] = current + (wall_ms - last_wall)
        self._seen_at_wall[partition] = wall_ms
        return self._time[partition]

    def state(self) -> dict[str, int]:
        return {str(partition): time for partition, time in sorted(self._time.items())}


class CloseSchedule(Generic[Item]):
    """Which (key, window) items are due to close, without scanning the state table on every event.

    Rescheduling an item (a session that grew) replaces its deadline. After a restart, rebuild it from the
    recovered table: the schedule itself is not state.
    """

    def __init__(self) -> None:
        self._deadline: dict[Item, int] = {}
        self._heap: list[tuple[int, int, Item]] = []
        self._sequence = itertools.count()

    def schedule(self, item: Item, close_time: int) -> None:
        self._deadline[item] = close_time
        heapq.heappush(self._heap, (close_time, next(self._sequence), item))

    def cancel(self, item: Item) -> None:
        self._deadline.pop(item, None)

    def due(self, stream_time_ms: int) -> list[Item]:
        """Remove and return the items closed at ``stream_time_ms``, earliest deadline first."""
        ready: list[Item] = []
        while self._heap and self._heap[0][0] < stream_time_ms:
            close_time, _, item = heapq.heappop(self._heap)
            # Stale heap entries (cancelled or rescheduled) are skipped here rather than removed eagerly.
            if self._deadline.get(item) == close_time:
                del self._deadline[item]
                ready.append(item)
        return ready

    def __len__(self) -> int:
        return len(self._deadline)

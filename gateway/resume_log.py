"""What one event-stream connection sent, in order, so that a reconnect naming its last event resumes exactly.

An SSE client acknowledges nothing while it reads; when it reconnects, `Last-Event-ID` says which event it saw
last. Everything sent before that event, on every partition, was seen too, since one connection is one ordered
byte stream. The log turns that one id into a position per partition:

    sent       p0:10 p0:11 p1:7 p0:12 p2:3 p1:8
    last id    evt_1_7 -> resume p0 at 12, p1 at 8, p2 where this connection started it

Consecutive records of one partition are kept as one run (`[partition, first, last]`), so a busy stream costs a
few runs per fetch, not one entry per record. The log holds at most `window` offsets; older ones are folded into
`folded` (partition -> next offset), which the caller commits: an event that far behind the newest one sent is
taken as delivered, and a Last-Event-ID older than the window is no longer known here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from gateway.event_ids import EventPosition


class ResumeLog:
    def __init__(self, window: int):
        self.window = window
        self.starts: dict[int, int] = {}  # partition -> the first position this connection read it from
        self.folded: dict[int, int] = {}  # partition -> next offset, of what left the window
        self._runs: deque[list[int]] = deque()
        self._held = 0  # offsets covered by `_runs`

    def __len__(self) -> int:
        return self._held

    def started(self, positions: Mapping[int, int]) -> None:
        """Where partitions start, for those not seen before (a later rebalance must not move a start)."""
        for partition, offset in positions.items():
            self.starts.setdefault(partition, offset)

    def sent(self, events: Iterable[tuple[int, int]]) -> dict[int, int]:
        """Record (partition, offset) pairs as sent, in order; returns what this folded (partition -> next offset)
        out of the window, for the caller to commit."""
        folded: dict[int, int] = {}
        for partition, offset in events:
            self.starts.setdefault(partition, offset)
            last = self._runs[-1] if self._runs else None
            if last is not None and last[0] == partition and offset > last[2]:
                self._held += offset - last[2]
                last[2] = offset
            else:
                self._runs.append([partition, offset, offset])
                self._held += 1
            while self._held > self.window:
                folded.update(self._fold(self._held - self.window))
        return folded

    def _fold(self, count: int) -> dict[int, int]:
        run = self._runs[0]
        partition, first, last = run
        taken = min(count, last - first + 1)
        self._held -= taken
        self.folded[partition] = first + taken
        if first + taken > last:
            self._runs.popleft()
        else:
            run[1] = first + taken
        return {partition: first + taken}

    def resume_at(self, last_seen: EventPosition) -> dict[int, int] | None:
        """Partition -> the next offset to send after `last_seen`, for every partition this connection read; None
        when `last_seen` is not in the window (never sent by this connection, or folded out)."""
        positions = {**self.starts, **self.folded}
        for partition, first, last in self._runs:
            if partition == last_seen.partition and first <= last_seen.offset <= last:
                positions[partition] = last_seen.offset + 1
                return positions
            positions[partition] = last + 1
        return None

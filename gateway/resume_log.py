"""What one event-stream connection sent, in order, so that a reconnect naming its last event resumes exactly.

An SSE client acknowledges nothing while it reads; when it reconnects, `Last-Event-ID` says which event it saw
last. Everything sent before that event, on every partition, was seen too, since one connection is one ordered
byte stream. The log turns that one id into a position per partition:

    sent       p0:10 p0:11 p1:7 p0:12 p2:3 p1:8
    last id    evt_1_7 -> resume p0 at 12, p1 at 8, p2 where this connection started it

Consecutive records of one partition are kept as one run (partition, first, last: 24 bytes), so a busy stream
costs a few runs per fetch, not one entry per record; a stream whose partitions alternate record by record costs
one run per record, which the window bounds. The log holds at most `window` offsets; older ones are folded into
`folded` (partition -> next offset), which the caller commits: an event that far behind the newest one sent is
taken as delivered, and a Last-Event-ID older than the window is no longer known here.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping

from gateway.event_ids import EventPosition

_RUN = 3  # partition, first offset, last offset


class ResumeLog:
    def __init__(self, window: int):
        self.window = window
        self.starts: dict[int, int] = {}  # partition -> the first position this connection read it from
        self.folded: dict[int, int] = {}  # partition -> next offset, of what left the window
        # Runs, flat (24 bytes each); those before `_head` have been folded out, and are dropped in bulk.
        self._runs = array("q")
        self._head = 0
        self._held = 0  # offsets covered by the live runs
        self.next_offsets: dict[int, int] = {}  # partition -> the offset after the last one sent

    def __len__(self) -> int:
        return self._held

    @property
    def runs(self) -> int:
        return (len(self._runs) - self._head) // _RUN

    def started(self, positions: Mapping[int, int]) -> None:
        """Where partitions start, for those not seen before (a later rebalance must not move a start)."""
        for partition, offset in positions.items():
            self.starts.setdefault(partition, offset)

    def sent(self, events: Iterable[tuple[int, int]]) -> dict[int, int]:
        """Record (partition, offset) pairs as sent, in order; returns what this folded (partition -> next offset)
        out of the window, for the caller to commit."""
        folded: dict[int, int] = {}
        runs = self._runs
        for partition, offset in events:
            self.starts.setdefault(partition, offset)
            self.next_offsets[partition] = offset + 1
            if self.runs and runs[-3] == partition and offset > runs[-1]:
                self._held += offset - runs[-1]
                runs[-1] = offset
            else:
                runs.extend((partition, offset, offset))
                self._held += 1
            while self._held > self.window:
                folded.update(self._fold(self._held - self.window))
        return folded

    def _fold(self, count: int) -> dict[int, int]:
        runs, head = self._runs, self._head
        partition, first, last = runs[head], runs[head + 1], runs[head + 2]
        taken = min(count, last - first + 1)
        self._held -= taken
        self.folded[partition] = first + taken
        if first + taken > last:
            self._head += _RUN
            if self._head * 2 > len(runs):
                del runs[: self._head]
                self._head = 0
        else:
            runs[head + 1] = first + taken
        return {partition: first + taken}

    def resume_at(self, last_seen: EventPosition) -> dict[int, int] | None:
        """Partition -> the next offset to send after `last_seen`, for every partition this connection read; None
        when `last_seen` is not in the window (never sent by this connection, or folded out)."""
        positions = {**self.starts, **self.folded}
        runs = self._runs
        for index in range(self._head, len(runs), _RUN):
            partition, first, last = runs[index], runs[index + 1], runs[index + 2]
            if partition == last_seen.partition and first <= last_seen.offset <= last:
                positions[partition] = last_seen.offset + 1
                return positions
            positions[partition] = last + 1
        return None

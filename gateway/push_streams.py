"""The event-stream connections of one gateway, one per (group, stream), and the resume logs of those that ended.

A connection for a (group, stream) that already has one takes over: the older connection is told to stop, and the
new one starts once it has ended and left its group. That is what a reconnecting client needs when the gateway has
not yet noticed that its old connection is dead. A log outlives its connection for `keep_s`, so a reconnect within
that time resumes exactly; at most `max_kept` logs of ended connections are kept, the oldest dropped first.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from gateway import errors as ge
from gateway.resume_log import ResumeLog

Key = tuple[str, str]  # (Kafka group, Kafka topic)
_TAKEOVER_WAIT_S = 10.0


@dataclass(eq=False)
class PushConnection:
    group: str
    stream: str
    log: ResumeLog
    stop: asyncio.Event = field(default_factory=asyncio.Event)  # set: end the stream (taken over)
    done: asyncio.Event = field(default_factory=asyncio.Event)  # set once it ended and its member left
    buffered: int = 0  # events read from Kafka and not yet written to the connection
    writing: bool = False  # a write is waiting for the connection to take it
    ended_at: float | None = None


class PushStreams:
    def __init__(self, window: int, keep_s: float, max_kept: int):
        self._window = window
        self._keep_s = keep_s
        self._max_kept = max_kept
        self._connections: dict[Key, PushConnection] = {}
        self._locks: dict[Key, asyncio.Lock] = {}

    def live(self) -> list[PushConnection]:
        return [c for c in self._connections.values() if c.ended_at is None]

    @asynccontextmanager
    async def opening(self, group: str, stream: str) -> AsyncIterator[tuple[PushConnection, ResumeLog | None]]:
        """A new connection for (group, stream) and the log of the one before it (None if none is kept). Until the
        block ends, no other connection for the same pair opens; leaving it with an exception drops the new one."""
        key = (group, stream)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            previous = self._connections.get(key)
            if previous is not None and previous.ended_at is None:
                previous.stop.set()
                try:
                    async with asyncio.timeout(_TAKEOVER_WAIT_S):
                        await previous.done.wait()
                except TimeoutError:
                    raise ge.Conflict(
                        "the previous event-stream connection of this group did not end in time"
                    ) from None
            connection = PushConnection(group, stream, ResumeLog(self._window))
            yield connection, None if previous is None else previous.log
            self._connections[key] = connection

    def ended(self, connection: PushConnection) -> None:
        """`connection` has ended and its member left the group; its log is kept for a reconnect."""
        connection.ended_at = time.monotonic()
        connection.buffered = 0
        connection.writing = False
        connection.done.set()
        self._prune()

    def _prune(self) -> None:
        now = time.monotonic()
        ended = sorted(
            (c for c in self._connections.values() if c.ended_at is not None), key=lambda c: c.ended_at or 0.0
        )
        expired = [c for c in ended if now - (c.ended_at or now) > self._keep_s]
        surplus = ended[len(expired) :][: max(0, len(ended) - len(expired) - self._max_kept)]
        for connection in (*expired, *surplus):
            key = (connection.group, connection.stream)
            if self._connections.get(key) is connection:
                del self._connections[key]
                lock = self._locks.get(key)
                if lock is not None and not lock.locked():
                    del self._locks[key]

    # --- gauges, read at scrape time ---------------------------------------------------------------------------

    def connections(self) -> float:
        return len(self.live())

    def buffered_events(self) -> float:
        return sum(c.buffered for c in self.live())

    def writing(self) -> float:
        return sum(1 for c in self.live() if c.writing)

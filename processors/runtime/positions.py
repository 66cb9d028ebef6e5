"""Where a worker stands on each assigned partition, and the stall watchdog that reads it."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from aiokafka import TopicPartition

from processors.housekeeping import Housekeeper
from processors.runtime.faults import STALLED_EXIT_CODE

log = logging.getLogger(__name__)

STALL_AFTER_S = 20.0


class Positions:
    """`watched` are the topics the watchdog checks (source and repartition); `ready()` says whether the worker
    can make progress at all (its lookup tables are loaded)."""

    def __init__(self, app: Any, housekeeper: Housekeeper, watched: set[str | None], ready: Callable[[], bool]):
        self.app = app
        self.housekeeper = housekeeper
        self.watched = watched
        self.ready = ready
        self._log_start: dict[tuple[str, int], int] = {}
        self._expired_warned: set[tuple[str, int]] = set()
        self.handled: dict[tuple[str, int], int] = {}
        self._progress_at = time.monotonic()
        self._checked: set[tuple[str, int]] = set()  # partitions whose first record since assignment was checked

    def mark_handled(self, topic: str, partition: int, offset: int) -> None:
        self.handled[(topic, partition)] = offset
        self._progress_at = time.monotonic()

    def forget(self, revoked: set[Any]) -> None:
        # Where this worker stopped reading says nothing once another worker has read on.
        for tp in revoked:
            key = (tp.topic, tp.partition)
            self.handled.pop(key, None)
            self._checked.discard(key)

    def unchecked(self, tp: tuple[str, int]) -> bool:
        """Whether the next record of `tp` is its first since it was assigned (then `check_first` it)."""
        return tp not in self._checked

    async def check_first(self, tp: tuple[str, int], offset: int) -> None:
        """Exit for a restart instead of handling the first record after an assignment when records before it
        were never handled.

        Faust's consumer can lose a record it fetched around an assignment (seen after a kill -9: the first
        source record after the committed offset never reached the stream) and then commit past it: its gap
        check takes the committed offset, which is the next offset to read, for the last one read. Handling the
        next record would be as bad as committing: the aggregate recognises replays by the highest source offset
        it applied, so a lost record read again later would count as one. The first record handled after an
        assignment must therefore be at the committed offset, or the offsets between must hold no records
        (transaction markers, compaction); otherwise the worker exits and its successor reads from the
        committed offset.
        """
        topic, partition = tp
        self._checked.add((topic, partition))
        consumer: Any = self.app.consumer
        committed: int | None = consumer._committed_offset.get(tp)
        if committed is None or committed < 0 or offset <= committed:
            return
        if await self.housekeeper.holds_records(TopicPartition(topic, partition), committed, offset):
            log.error(
                "records %d..%d of %s[%d] were never handled; restarting the worker to read them from the "
                "committed offset",
                committed,
                offset - 1,
                topic,
                partition,
            )
            os._exit(STALLED_EXIT_CODE)

    async def watchdog(self) -> None:
        """Exit when records wait on an assigned partition but nothing was handled for `STALL_AFTER_S`.

        Faust consumers can stop delivering to a stream without an error (faust-streaming #175, #640). The
        supervisor restarts the worker, which then resumes from the committed offsets. Records that the topic's
        retention deleted before they were read are not waiting: they are reported once and skipped.
        """
        consumer: Any = self.app.consumer
        assigned = [tp for tp in consumer.assignment() if tp.topic in self.watched]
        try:
            starts = await self.housekeeper.log_starts(TopicPartition(tp.topic, tp.partition) for tp in assigned)
        except Exception as exc:  # noqa: BLE001 - without fresh log starts the last known ones serve
            log.warning("could not read log start offsets: %r", exc)
            starts = {}
        self._log_start.update({(tp.topic, tp.partition): offset for tp, offset in starts.items()})
        stalled = time.monotonic() - self._progress_at >= STALL_AFTER_S
        for tp in assigned:
            key = (tp.topic, tp.partition)
            start, log_start = self.start_offset(tp), self._log_start.get(key, 0)
            # Only a real position (something handled or committed) can have records deleted from under it.
            if 0 < start < log_start and key not in self._expired_warned:
                self._expired_warned.add(key)
                log.warning(
                    "offsets %d..%d of %s were deleted by the topic's retention before this processor read them",
                    start,
                    log_start - 1,
                    tp,
                )
            highwater = consumer.highwater(tp)
            waiting = highwater is not None and highwater > self.next_offset(tp)
            if waiting and stalled and self.ready():
                log.error("no progress for %ss with records waiting on %s; restarting the worker", STALL_AFTER_S, tp)
                os._exit(STALLED_EXIT_CODE)

    def start_offset(self, tp: Any) -> int:
        """The next offset to handle as far as this worker knows: after the last one it handled, else the
        group's committed offset (a partition this worker was given but has not read from yet)."""
        handled = self.handled.get((tp.topic, tp.partition))
        if handled is not None:
            return handled + 1
        consumer: Any = self.app.consumer
        committed: int | None = consumer._committed_offset.get(tp)
        return committed or 0

    def next_offset(self, tp: Any) -> int:
        """The next offset that exists and still has to be handled."""
        return max(self.start_offset(tp), self._log_start.get((tp.topic, tp.partition), 0))

    def lag(self, topic: str) -> int:
        """Records waiting to be handled on this worker's partitions of `topic`."""
        consumer: Any = self.app.consumer
        waiting = 0
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp) if tp.topic == topic else None
            if highwater is not None:
                waiting += max(0, highwater - self.next_offset(tp))
        return waiting

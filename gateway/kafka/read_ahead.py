"""A consumer member's next batch, fetched and rendered while its client is still reading the last one.

A client draining a backlog polls, parses the response, and polls again; without reading ahead the gateway
sits idle while the client parses and the client waits while the gateway renders. After a poll that returned a
full batch, the member takes what aiokafka already buffered (`getmany` with no wait) and renders it at once;
the next poll with the same limits returns it without fetching or rendering.

What keeps this from losing or repeating anything:
- The batch is taken and rendered in one step with no `await` between them (`take`), so it always belongs to
  the assignment the fetch saw. A rebalance drops a batch it did not see (`drop`): the member's new positions
  come from the group's commits, so nothing fetched into it is skipped.
- Positions a poll reports (and `autoCommit` commits) are read before the next read-ahead starts, so they never
  cover a record the client was not given.
- A poll that seeks, or asks for other limits, first puts the batch back (`unread`: each partition seeks to
  its first record in the batch), as does anything else that moves the member's positions.
- A fetch error is kept and raised by the next poll, as the poll's own fetch would have raised it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from gateway.records import Rendered, render


@dataclass(slots=True)
class Batch:
    """Rendered events, their JSON size, and whether the byte cap or the record limit ended it."""

    events: list[Rendered] = field(default_factory=list)
    size_bytes: int = 0
    full: bool = False

    def starts(self) -> dict[int, int]:
        """Each partition's first offset in the batch: where putting it back seeks to."""
        firsts: dict[int, int] = {}
        for event in self.events:
            firsts.setdefault(event.partition, event.offset)
        return firsts


def take(
    consumer: AIOKafkaConsumer, fetched: dict[TopicPartition, list[Any]], max_bytes: int, batch: Batch, limit: int
) -> Batch:
    """Render `fetched` into `batch` up to `max_bytes` of events; seek back every partition whose records did
    not all fit, so nothing fetched is dropped."""
    events = batch.events
    for tp in sorted(fetched, key=lambda t: t.partition):
        for record in fetched[tp]:
            if not batch.full:
                event = render(record)
                if not events or batch.size_bytes + event.size <= max_bytes:
                    events.append(event)
                    batch.size_bytes += event.size
                    continue
                batch.full = True
            # The first record of this partition that was not returned: read it again next poll.
            consumer.seek(tp, record.offset)
            break
    if len(events) >= limit:
        batch.full = True
    return batch


class ReadAhead:
    """At most one batch read ahead for one member; every method but `settle` is called with its lock held."""

    def __init__(self, consumer: AIOKafkaConsumer, stream: str):
        self._consumer = consumer
        self._stream = stream
        self._task: asyncio.Task[None] | None = None
        self._batch: Batch | None = None
        self._limits: tuple[int, int] = (0, 0)
        self._error: BaseException | None = None

    def start(self, limit: int, max_bytes: int) -> None:
        """Read the next batch in the background, for a poll asking for `limit` events and `max_bytes`."""
        self._limits = (limit, max_bytes)
        self._task = asyncio.create_task(self._read(limit, max_bytes), name=f"kafkagate-read-ahead-{self._stream}")

    async def _read(self, limit: int, max_bytes: int) -> None:
        try:
            fetched = await self._consumer.getmany(timeout_ms=0, max_records=limit)
        except Exception as exc:  # noqa: BLE001 - kept for the next poll, which raises it
            self._error = exc
            return
        if fetched:
            self._batch = take(self._consumer, fetched, max_bytes, Batch(), limit)

    async def settle(self) -> None:
        """Wait for a read in flight (it never waits for records, only for an assignment in progress)."""
        task = self._task
        if task is not None:
            await asyncio.shield(task)  # a cancelled poll leaves it to the next one to wait for
            self._task = None

    def claim(self, limit: int, max_bytes: int) -> Batch | None:
        """The batch read ahead, if it was read for these limits; otherwise it is put back. Call after `settle`."""
        if self._error is not None:
            error, self._error = self._error, None
            raise error  # a failed read leaves no batch to put back
        if self._batch is not None and self._limits != (limit, max_bytes):
            self.unread()
        batch, self._batch = self._batch, None
        return batch

    def unread(self) -> None:
        """Put the batch back: every partition in it reads again from its first record there."""
        batch, self._batch = self._batch, None
        if batch is None:
            return
        assigned = self._consumer.assignment()
        for partition, offset in batch.starts().items():
            tp = TopicPartition(self._stream, partition)
            if tp in assigned:
                self._consumer.seek(tp, offset)

    def drop(self) -> None:
        """A rebalance began: the batch belongs to partitions whose positions restart from the group's commits."""
        self._batch = None

    async def close(self) -> None:
        self._batch = None
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

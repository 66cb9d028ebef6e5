"""A worker's own Kafka clients for what Faust does not do: log offsets, purging the repartition topic, and
looking for a final result in a sink after a crash.

Repartition records keep event-time timestamps and the topic has no time-based retention (see
`processors.plan.REPARTITION_CONFIGS`), so the worker deletes what its consumer group has committed, as Kafka
Streams does. The log start offset tells lag and the stall watchdog which records still exist: records deleted by a
source's retention before the processor read them can never be handled, and are not waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.partitioner import DefaultPartitioner

log = logging.getLogger(__name__)


class Housekeeper:
    """Clients are made in `start` (inside the worker's event loop). Until then `log_starts` answers empty, and
    the queries a handler needs (`end_offset`, `partition_for`) wait for them: Faust runs the startup task that
    calls `start` beside the agents, so a restarted worker's first events can arrive before it finished."""

    def __init__(self, bootstrap: str, group: str):
        self.bootstrap = bootstrap
        self.group = group
        self._purged: dict[TopicPartition, int] = {}
        self._admin: AIOKafkaAdminClient | None = None
        self._probe: AIOKafkaConsumer | None = None
        self._started = asyncio.Event()

    async def start(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        probe = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False)
        await admin.start()
        await probe.start()
        self._admin, self._probe = admin, probe
        self._started.set()

    async def _ready_probe(self) -> AIOKafkaConsumer:
        await self._started.wait()
        if self._probe is None:
            raise RuntimeError("the housekeeper was stopped")
        return self._probe

    async def stop(self) -> None:
        admin, probe, self._admin, self._probe = self._admin, self._probe, None, None
        if probe is not None:
            await probe.stop()
        if admin is not None:
            await admin.close()

    async def log_starts(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        """The first offset that still exists in each partition."""
        wanted = list(partitions)
        if self._probe is None or not wanted:
            return {}
        return dict(await self._probe.beginning_offsets(wanted))

    async def end_offset(self, tp: TopicPartition) -> int:
        probe = await self._ready_probe()
        return int((await probe.end_offsets([tp]))[tp])

    async def partition_for(self, topic: str, key: bytes | None) -> int:
        """The partition Kafka's default partitioner picks for ``key`` (murmur2, as Java clients); 0 for no key."""
        probe = await self._ready_probe()
        partitions = probe.partitions_for_topic(topic)
        if not partitions:
            # Tracked, not just refreshed: once an offset lookup made the client track some topic, a plain
            # refresh asks for those topics only, and a sink nothing looked up yet would never appear.
            await probe._client.add_topic(topic)
            partitions = probe.partitions_for_topic(topic)
        if not partitions:
            raise LookupError(f"topic {topic!r} has no partitions in the cluster metadata")
        if key is None:
            return 0
        ordered = sorted(partitions)
        return int(DefaultPartitioner()(key, ordered, ordered))

    @contextlib.asynccontextmanager
    async def _reader(self, tp: TopicPartition, start: int) -> AsyncIterator[AIOKafkaConsumer]:
        """A group-less consumer of ``tp`` alone, placed at ``start`` (at the log start if that was deleted)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            consumer.assign([tp])
            consumer.seek(tp, start)
            yield consumer
        finally:
            await consumer.stop()

    async def find(
        self, tp: TopicPartition, start: int, wanted: set[tuple[bytes | None, bytes]]
    ) -> set[tuple[bytes | None, bytes]]:
        """Which of the ``wanted`` (key, value) records ``tp`` holds at ``start`` or later: one read of the
        partition up to its current end, however many records are looked for."""
        found: set[tuple[bytes | None, bytes]] = set()
        async with self._reader(tp, start) as consumer:
            end = (await consumer.end_offsets([tp]))[tp]
            while end > start and found != wanted and await consumer.position(tp) < end:
                batches = await consumer.getmany(tp, timeout_ms=1000)
                found.update(
                    (record.key, record.value)
                    for record in batches.get(tp, [])
                    if record.offset < end and (record.key, record.value) in wanted
                )
        return found

    async def holds_records(self, tp: TopicPartition, start: int, end: int, *, wait_s: float = 10.0) -> bool:
        """Whether ``tp`` holds a record at an offset from ``start`` to ``end - 1``. Offsets taken by transaction
        markers or emptied by compaction hold none. When the read does not get that far in ``wait_s``, the
        answer is yes: the caller restarts rather than assume nothing is there."""
        async with self._reader(tp, start) as consumer:
            deadline = time.monotonic() + wait_s
            while await consumer.position(tp) < end:
                batches = await consumer.getmany(tp, timeout_ms=500)
                if any(record.offset < end for record in batches.get(tp, [])):
                    return True
                if time.monotonic() > deadline:
                    return True
        return False

    async def purge_assigned(self, assignment: Iterable[Any], topic: str) -> None:
        """`purge` the partitions of `topic` in `assignment` (the worker's), logging a failure instead of raising:
        purging is housekeeping, and the next interval tries again."""
        mine = [TopicPartition(tp.topic, tp.partition) for tp in assignment if tp.topic == topic]
        try:
            await self.purge(mine)
        except Exception as exc:  # noqa: BLE001 - see above
            log.warning("could not purge %s: %r", topic, exc)

    async def purge(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        """Delete the records below the group's committed offset; returns the new log start per partition."""
        wanted = list(partitions)
        if self._admin is None or not wanted:
            return {}
        committed = await self._admin.list_consumer_group_offsets(self.group, partitions=wanted)
        todo = {
            tp: RecordsToDelete(meta.offset)
            for tp, meta in committed.items()
            if meta is not None and meta.offset > self._purged.get(tp, 0)
        }
        if not todo:
            return {}
        done: dict[TopicPartition, int] = await self._admin.delete_records(todo)
        self._purged.update(done)
        log.debug("purged %s", done)
        return done

"""A replicated table: a compacted single-partition Kafka topic, tailed into memory by every gateway.

Kafka is the only store, so every gateway holds the same table: each reads the topic from the beginning with a
group-less consumer and keeps the latest value per key, together with the offset it was written at (so callers
can settle races by "first write in offset order wins"). A write returns once this gateway has read it back
(read-your-writes); `sync()` waits until the tail has read everything Kafka held when it was called, so a read
after `sync()` is never older than the request. Changes written by other gateways arrive within the tail's poll
(under a second while the broker is healthy).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition

from gateway import errors as ge
from gateway.kafka import connect
from gateway.kafka.admin import StreamAdmin
from gateway.kafka.producer import EventProducer, OutgoingRecord
from gateway.kafka.translate import translate
from gateway.settings import Settings
from gateway.timefmt import now_ms

log = logging.getLogger(__name__)

V = TypeVar("V")
COMPACTED = {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}


@dataclass(frozen=True, slots=True)
class Entry(Generic[V]):
    value: V
    offset: int


class ReplicatedTable(Generic[V]):
    """`topic` (created on first use, 1 partition, the internal replication factor, compacted unless `configs`
    say otherwise) as a dict of
    `decode`d values.

    `decode` turns a record value into `V`; a record it rejects (raises ValueError) is logged and skipped, so a
    malformed record never stops the tail. Tombstones delete. An entry is filed under the record key, or under
    `entry_key(record_key, value)` when given (a table of one entry per (processor, worker), say). Starts lazily
    on the first `sync()` or write.
    """

    def __init__(
        self,
        settings: Settings,
        admin: StreamAdmin,
        producer: EventProducer,
        topic: str,
        decode: Callable[[bytes], V],
        *,
        configs: dict[str, str] | None = None,
        entry_key: Callable[[str, V], str] | None = None,
    ):
        self.topic = topic
        self._settings = settings
        self._admin = admin
        self._producer = producer
        self._decode = decode
        self._configs = COMPACTED if configs is None else configs
        self._entry_key = entry_key
        self._tp = TopicPartition(topic, 0)
        self._entries: dict[str, Entry[V]] = {}
        # Bumped by every change, so readers can cache what they derive from the entries until the next one.
        self.version = 0
        self._position = 0
        self._advanced = asyncio.Condition()
        self._start_lock = asyncio.Lock()
        self._consumer: AIOKafkaConsumer | None = None
        self._tail: asyncio.Task[None] | None = None
        self._sync: asyncio.Task[None] | None = None
        self._sync_issued = 0.0

    # --- lifecycle ----------------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._tail is not None

    async def start(self) -> None:
        """Create the topic if needed and start tailing it. Safe to call repeatedly and concurrently."""
        if self._tail is not None:
            return
        async with self._start_lock:
            if self._tail is not None:
                return
            # Every gateway creates it on first use; whoever comes second gets "already exists", the goal.
            with contextlib.suppress(ge.StreamAlreadyExists):
                await self._admin.create_internal(self.topic, 1, self._configs)
            consumer = connect.consumer(self._settings, self.topic, group_id=None, auto_offset_reset="earliest")
            try:
                await consumer.start()
                consumer.assign([self._tp])
                await consumer.seek_to_beginning(self._tp)
            except BaseException as exc:
                await consumer.stop()
                raise self._fail(exc) from exc
            self._consumer = consumer
            self._tail = asyncio.create_task(self._run(consumer), name=f"kafkagate-table-{self.topic}")

    async def close(self) -> None:
        tail, consumer = self._tail, self._consumer
        self._tail = self._consumer = None
        if tail is not None:
            tail.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tail
        if consumer is not None:
            await consumer.stop()

    def _fail(self, exc: BaseException) -> ge.GatewayError:
        return translate(exc, retry_after_s=self._settings.retry_after_s)

    # --- the tail -----------------------------------------------------------------------------------------

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                batches = await consumer.getmany(self._tp, timeout_ms=1000)
                for record in batches.get(self._tp, []):
                    if record.key is not None:
                        self._apply(record.key.decode("utf-8", errors="replace"), record.value, record.offset)
                position = await consumer.position(self._tp)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the tail must outlive broker hiccups; reads time out meanwhile
                log.warning("tail of %s failed, retrying: %r", self.topic, exc)
                await asyncio.sleep(self._settings.connect_retry_backoff_ms / 1000)
                continue
            async with self._advanced:
                self._position = position
                self._advanced.notify_all()

    def _apply(self, key: str, value: bytes | None, offset: int) -> None:
        self.version += 1
        if value is None:
            self._entries.pop(key, None)
            return
        try:
            decoded = self._decode(value)
        except ValueError as exc:
            log.warning("skipping malformed record at %s offset %d: %s", self.topic, offset, exc)
            return
        self._entries[key if self._entry_key is None else self._entry_key(key, decoded)] = Entry(decoded, offset)

    async def _wait_for(self, offset: int) -> None:
        timeout_s = self._settings.admin_request_timeout_ms / 1000
        try:
            async with asyncio.timeout(timeout_s), self._advanced:
                await self._advanced.wait_for(lambda: self._position >= offset)
        except TimeoutError as exc:
            raise ge.BrokerUnavailable(
                f"{self.topic} did not catch up with Kafka within {timeout_s:g} s",
                retry_after_s=self._settings.retry_after_s,
            ) from exc

    async def wait_until(self, ready: Callable[[], bool], timeout_s: float) -> bool:
        """Start if needed, then wait until `ready()` holds, checked now and after every batch the tail reads;
        False when `timeout_s` passed first."""
        await self.start()
        try:
            async with asyncio.timeout(timeout_s), self._advanced:
                await self._advanced.wait_for(ready)
        except TimeoutError:
            return False
        return True

    async def sync(self) -> None:
        """Start if needed, then wait until the tail has read everything written before this call.

        Concurrent callers share one end-offsets request, so a flood of lookups costs Kafka one request at a time;
        a caller joins only a request issued after it arrived (an older one could miss what was written since).
        """
        await self.start()
        arrived = time.monotonic()
        while True:
            task = self._sync
            if task is not None and not task.done():
                if self._sync_issued >= arrived:
                    await asyncio.shield(task)
                    return
                with contextlib.suppress(Exception):  # its failure is its own callers'; this caller tries anew
                    await asyncio.shield(task)
                continue
            self._sync_issued = time.monotonic()
            self._sync = asyncio.create_task(self._sync_once())

    async def _sync_once(self) -> None:
        try:
            ends = await self._admin.offsets_consumer().end_offsets([self._tp])
        except Exception as exc:
            raise self._fail(exc) from exc
        await self._wait_for(ends[self._tp])

    # --- reads --------------------------------------------------------------------------------------------

    def get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        return None if entry is None else entry.value

    def entry(self, key: str) -> Entry[V] | None:
        return self._entries.get(key)

    def entries(self) -> dict[str, Entry[V]]:
        return dict(self._entries)

    # --- writes -------------------------------------------------------------------------------------------

    async def put(self, key: str, value: bytes) -> int:
        """Write `value` under `key` (acks=all); returns its offset once this gateway has read it back."""
        return await self._publish(key, value)

    async def delete(self, key: str) -> None:
        """Write the tombstone for `key`; returns once this gateway has read it back."""
        await self._publish(key, None)

    async def _publish(self, key: str, value: bytes | None) -> int:
        await self.start()
        record = OutgoingRecord(key.encode(), value, [], now_ms(), partition=0)
        ack = await self._producer.publish(self.topic, record, self._settings.produce_timeout_ms)
        await self._wait_for(ack.offset + 1)
        return ack.offset

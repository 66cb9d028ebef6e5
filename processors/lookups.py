"""Lookup tables for map functions (e.g. `enrichWithUserData`): compacted streams materialized in memory.

Every worker reads every partition of a lookup stream (no consumer group), from the beginning, and keeps
following it, so a record key always maps to its latest JSON value. A null value (tombstone) removes the key.
`ready` is set once every table has caught up with the end offsets it saw at startup (or, for a stream that
does not exist, after `missing_wait_s`), so the first events are not enriched from a half-loaded table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

log = logging.getLogger(__name__)


class LookupTables:
    """`names` are the tables map functions ask for; each is read from the topic `topic_prefix + name` (a tenant's
    processor names its tables as the tenant does, and they live under the tenant's prefix in Kafka)."""

    def __init__(self, bootstrap: str, names: tuple[str, ...], *, missing_wait_s: float = 10.0, topic_prefix: str = ""):
        self._bootstrap = bootstrap
        self._prefix = topic_prefix
        self._missing_wait_s = missing_wait_s
        self.tables: dict[str, dict[Any, Any]] = {name: {} for name in names}
        self.ready = asyncio.Event()
        self._loaded: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        if not self.tables:
            self.ready.set()
        for name in self.tables:
            self._tasks.append(asyncio.create_task(self._follow(name), name=f"lookup-{name}"))

    def _mark_loaded(self, name: str) -> None:
        self._loaded.add(name)
        if self._loaded >= set(self.tables):
            self.ready.set()

    async def _partitions(self, consumer: AIOKafkaConsumer, name: str) -> list[TopicPartition]:
        waited = 0.0
        while True:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(self._prefix + name)
            if partitions:
                return [TopicPartition(self._prefix + name, p) for p in sorted(partitions)]
            if waited >= self._missing_wait_s and name not in self._loaded:
                log.warning(
                    "lookup stream %r does not exist; its lookups find nothing until it does", self._prefix + name
                )
                self._mark_loaded(name)
            await asyncio.sleep(1.0)
            waited += 1.0

    async def _follow(self, name: str) -> None:
        table = self.tables[name]
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False)
        await consumer.start()
        try:
            tps = await self._partitions(consumer, name)
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            pending = {tp for tp in tps if ends[tp] > 0}
            if not pending:
                self._mark_loaded(name)
            while True:
                batches = await consumer.getmany(timeout_ms=1000)
                for tp, records in batches.items():
                    for record in records:
                        self._apply(table, record.key, record.value)
                    if tp in pending and records and records[-1].offset + 1 >= ends[tp]:
                        pending.discard(tp)
                        if not pending:
                            self._mark_loaded(name)
        finally:
            await consumer.stop()

    @staticmethod
    def _apply(table: dict[Any, Any], raw_key: bytes | None, raw_value: bytes | None) -> None:
        if raw_key is None:
            return
        key = raw_key.decode(errors="replace")
        if raw_value is None:
            table.pop(key, None)
            return
        with contextlib.suppress(orjson.JSONDecodeError):
            table[key] = orjson.loads(raw_value)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

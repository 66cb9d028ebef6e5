"""Lookup tables for map functions (e.g. `enrichWithUserData`): compacted streams materialized in memory.

Every worker reads every partition of a lookup stream (no consumer group), from the beginning, and keeps
following it, so a record key always maps to its latest JSON value. A null value (tombstone) removes the key.
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
    def __init__(self, bootstrap: str, names: tuple[str, ...]):
        self._bootstrap = bootstrap
        self.tables: dict[str, dict[Any, Any]] = {name: {} for name in names}
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for name in self.tables:
            self._tasks.append(asyncio.create_task(self._follow(name), name=f"lookup-{name}"))

    async def _follow(self, name: str) -> None:
        table = self.tables[name]
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions: set[int] = set()
            while not partitions:
                partitions = consumer.partitions_for_topic(name) or set()
                if not partitions:
                    log.warning("lookup stream %r not found yet; %r lookups find nothing until it exists", name, name)
                    await asyncio.sleep(5)
                    await consumer._client.force_metadata_update()
            tps = [TopicPartition(name, p) for p in sorted(partitions)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            async for record in consumer:
                key = record.key.decode() if record.key is not None else None
                if key is None:
                    continue
                if record.value is None:
                    table.pop(key, None)
                    continue
                with contextlib.suppress(orjson.JSONDecodeError):
                    table[key] = orjson.loads(record.value)
        finally:
            await consumer.stop()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

"""Publishing a processor's aggregate state for queries: the `StateBook` (pure) fed from the stages, drained to
the compacted state topic every `PUBLISH_INTERVAL_S`, which bounds how stale a gateway's copy can be.

The records go through a producer of their own, not Faust's: they are a view of the state, not output, so they
neither hold up Faust's commits (which flush its producer) nor stop the worker when a write fails; a failed
flush marks everything to be published again.

Stage 1's "last source offset forwarded to each aggregate partition" is kept in the Faust table too
(`forwarded|<source partition>|<aggregate partition>`, in the source partition's changelog partition), so a worker
that takes a source partition over (after a crash) publishes what its predecessor forwarded and a query never
takes an event still in the repartition topic for a processed one. The marks are written before each offset
commit (`write_marks`, which the commit guard calls and then waits for), not per event: a commit covers only
events whose marks are acknowledged, which is all a successor needs, at one changelog record per partition and
commit instead of one per event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from processors.aggregate_store import Result, WindowedAggregate
from processors.plan import Plan
from processors.state_book import StateBook
from processors.windows import Window
from schemas.processor_state import STATE_TOPIC

log = logging.getLogger(__name__)

PUBLISH_INTERVAL_S = 0.1


class StatePublisher:
    def __init__(self, plan: Plan, processor_id: str, table: Any, bootstrap: str, partitions: int):
        stage = plan.aggregate
        assert stage is not None  # noqa: S101 - only made for plans with an aggregate
        self.stage = stage
        self.table = table
        self.bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None
        self.partitions = partitions
        self.book = StateBook(processor_id, stage.window)
        self._forwarded: dict[int, dict[int, int]] = {}
        self._unmarked: set[int] = set()  # source partitions whose marks changed since `write_marks`
        self._partitioner = DefaultPartitioner()
        self._all = list(range(partitions))

    # --- stage 1 ------------------------------------------------------------------------------------------

    def _forwarded_of(self, source_partition: int) -> dict[int, int]:
        known = self._forwarded.get(source_partition)
        if known is None:
            known = {}
            for partition in range(self.partitions):
                offset = self.table.get(f"forwarded|{source_partition}|{partition}")
                if offset is not None:
                    known[partition] = offset
            self._forwarded[source_partition] = known
        return known

    def forwarded(self, source_partition: int, key: bytes, offset: int) -> None:
        """Stage 1 sent source event `offset` to the repartition topic under `key` (called inside the event's
        handler). The repartition topic has the source's partition count, and the producer picks the partition
        with Kafka's default partitioner, as this does, without waiting for metadata."""
        aggregate_partition = int(self._partitioner(key, self._all, self._all))
        self._forwarded_of(source_partition)[aggregate_partition] = offset
        self._unmarked.add(source_partition)

    def write_marks(self) -> None:
        """Send the forwarded marks that changed to the table's changelog, each to its source partition's
        changelog partition (no event context needed); the commit guard waits for them before committing."""
        data = self.table.data
        for source in sorted(self._unmarked):
            for aggregate_partition, offset in self._forwarded.get(source, {}).items():
                key = f"forwarded|{source}|{aggregate_partition}"
                if data.get(key) != offset:
                    data[key] = offset
                    self.table.send_changelog(source, key, offset)
        self._unmarked.clear()

    def handled(self, source_partition: int, offset: int) -> None:
        self.book.handled(source_partition, offset, dict(self._forwarded_of(source_partition)))

    # --- the aggregate ------------------------------------------------------------------------------------

    def restored(self, aggregate: WindowedAggregate, partition: int, keys: Iterable[tuple[Any, Any]]) -> None:
        """A partition's aggregate was (re)built from the table: publish what it holds."""
        results = []
        for group_key, start in keys:
            entry = aggregate.store.get((group_key, start)) if group_key is not None else None
            if entry is None:
                continue
            window = None if start is None else Window(start, entry["end"])
            if "state" in entry:
                value = self.stage.result_value(group_key, window, entry["state"])
            else:
                value = entry["final"]["value"]
            results.append(Result(group_key, window, value, 0))
        self.book.results(partition, results)
        self._progress(partition, aggregate)

    def applied(
        self, partition: int, aggregate: WindowedAggregate, results: Iterable[Result], source: tuple[int, int]
    ) -> None:
        self.book.results(partition, results)
        self.book.progress(partition, aggregate.stream_time_ms, *source)

    def closed(self, partition: int, aggregate: WindowedAggregate, results: Iterable[Result]) -> None:
        """Windows closed without an event (idle close): their results and the new stream time."""
        self.book.results(partition, [r for r in results if r.window is not None])
        self._progress(partition, aggregate)

    def _progress(self, partition: int, aggregate: WindowedAggregate) -> None:
        for source, applied in aggregate.sources.items():
            self.book.progress(partition, aggregate.stream_time_ms, source, applied)

    def forget(self, aggregate_partitions: Iterable[int], source_partitions: Iterable[int]) -> None:
        """Revoked partitions: another worker publishes them now. Marks not yet written are written first (a
        revocation commits before it gets here, so there should be none), never after."""
        self.write_marks()
        for partition in aggregate_partitions:
            self.book.forget(partition)
        for partition in source_partitions:
            self._forwarded.pop(partition, None)

    async def start(self) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True)
        await producer.start()
        self._producer = producer

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def flush(self) -> None:
        producer = self._producer
        if producer is None:
            return  # not started yet: what is in the book waits for the next flush
        records = self.book.drain(int(time.time() * 1000))
        if not records:
            return
        try:
            sent = [await producer.send(STATE_TOPIC, value, key=key.encode(), partition=0) for key, value in records]
            await asyncio.gather(*sent)
        except Exception as exc:  # noqa: BLE001 - state is published again in full; processing goes on
            log.warning("could not publish aggregate state (%r); publishing all of it again", exc)
            self.book.mark_all()

"""The processor registry: specs in a compacted Kafka topic, worker metrics in another, both tailed into memory.

Kafka is the only store, so any number of gateways share one registry. Each gateway reads both topics from the
beginning with a group-less consumer and keeps the latest spec record per processor and the latest metrics
snapshot per (processor, worker). Reads first `sync()`: they wait until the tail has reached the end offsets
Kafka reports at that moment, so a gateway never answers from a view older than the request. A write waits
until the tail has read the record back, so the writer's next read sees it (read-your-writes).

Writes on one gateway are serialized by `write_lock`. Two gateways writing the same processor at the same moment
are not (Kafka offers no compare-and-set): the later record wins, and a name could be taken twice in a race.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import ValidationError

from gateway import errors as ge
from gateway.kafka import connect
from gateway.kafka.admin import StreamAdmin
from gateway.kafka.producer import EventProducer, OutgoingRecord
from gateway.kafka.translate import translate
from gateway.settings import Settings
from gateway.timefmt import now_ms
from processors.functions import FunctionRegistry
from schemas.processor_api import (
    METRICS_RETENTION_MS,
    METRICS_TOPIC,
    SPEC_TOPIC,
    MetricsSnapshot,
    ProcessorRecord,
)

log = logging.getLogger(__name__)

_SPEC = TopicPartition(SPEC_TOPIC, 0)
_METRICS = TopicPartition(METRICS_TOPIC, 0)
TOPIC_CONFIGS: dict[str, dict[str, str]] = {
    SPEC_TOPIC: {"cleanup.policy": "compact"},
    METRICS_TOPIC: {"cleanup.policy": "delete", "retention.ms": str(METRICS_RETENTION_MS)},
}


class ProcessorRegistry:
    """Processor spec records and worker metrics, as this gateway has read them from Kafka.

    Starts lazily: the first `sync()` creates the two topics when missing (1 partition, replication factor 1),
    starts the tail and waits until it has caught up. `functions` is the map-function registry specs are compiled
    against (default: the built-ins plus the `kafkagate.functions` entry points, loaded now so a broken plugin
    stops startup).
    """

    def __init__(
        self,
        settings: Settings,
        admin: StreamAdmin,
        producer: EventProducer,
        functions: FunctionRegistry | None = None,
    ):
        self.functions = functions if functions is not None else FunctionRegistry.load()
        self.write_lock = asyncio.Lock()
        self._settings = settings
        self._admin = admin
        self._producer = producer
        self._records: dict[str, ProcessorRecord] = {}
        self._snapshots: dict[str, dict[str, MetricsSnapshot]] = {}
        self._positions: dict[TopicPartition, int] = {_SPEC: 0, _METRICS: 0}
        self._advanced = asyncio.Condition()
        self._start_lock = asyncio.Lock()
        self._consumer: AIOKafkaConsumer | None = None
        self._tail: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the topics if needed and start tailing them. Safe to call repeatedly and concurrently."""
        if self._tail is not None:
            return
        async with self._start_lock:
            if self._tail is not None:
                return
            await self._ensure_topics()
            consumer = connect.consumer(self._settings, "processors", group_id=None, auto_offset_reset="earliest")
            try:
                await consumer.start()
                consumer.assign([_SPEC, _METRICS])
                await consumer.seek_to_beginning(_SPEC, _METRICS)
            except BaseException as exc:
                await consumer.stop()
                raise self._fail(exc) from exc
            self._consumer = consumer
            self._tail = asyncio.create_task(self._run(consumer), name="kafkagate-processor-registry")

    async def _ensure_topics(self) -> None:
        for topic, configs in TOPIC_CONFIGS.items():
            # Workers create the same topics; whoever comes second gets "already exists", which is the goal.
            with contextlib.suppress(ge.StreamAlreadyExists):
                await self._admin.create(topic, 1, 1, configs)

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
                batches = await consumer.getmany(timeout_ms=1000)
                for tp, records in batches.items():
                    for record in records:
                        self._apply(tp.topic, record)
                positions = {tp: await consumer.position(tp) for tp in self._positions}
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the tail must outlive broker hiccups; reads time out meanwhile
                log.warning("processor registry tail failed, retrying: %r", exc)
                await asyncio.sleep(self._settings.connect_retry_backoff_ms / 1000)
                continue
            async with self._advanced:
                self._positions.update(positions)
                self._advanced.notify_all()

    def _apply(self, topic: str, record: ConsumerRecord[bytes, bytes]) -> None:
        if record.key is None:
            return
        processor_id = record.key.decode("utf-8", errors="replace")
        try:
            if topic == SPEC_TOPIC:
                if record.value is None:
                    self._records.pop(processor_id, None)
                    self._snapshots.pop(processor_id, None)
                else:
                    self._records[processor_id] = ProcessorRecord.model_validate_json(record.value)
            elif record.value is not None:
                snapshot = MetricsSnapshot.model_validate_json(record.value)
                self._snapshots.setdefault(snapshot.processor_id, {})[snapshot.worker] = snapshot
        except ValidationError as exc:
            log.warning("skipping malformed record at %s offset %d: %s", topic, record.offset, exc)

    async def _wait_for(self, targets: dict[TopicPartition, int]) -> None:
        timeout_s = self._settings.admin_request_timeout_ms / 1000
        try:
            async with asyncio.timeout(timeout_s), self._advanced:
                await self._advanced.wait_for(lambda: all(self._positions[tp] >= end for tp, end in targets.items()))
        except TimeoutError as exc:
            raise ge.OperationTimeout(
                f"the processor registry did not catch up with Kafka within {timeout_s:g} s",
                retry_after_s=self._settings.retry_after_s,
            ) from exc

    async def sync(self, *, metrics: bool = False) -> None:
        """Start if needed, then wait until the tail has read everything written to the spec topic so far (and
        to the metrics topic when `metrics`)."""
        await self.start()
        tps = [_SPEC, _METRICS] if metrics else [_SPEC]
        try:
            ends = await self._admin.offsets_consumer().end_offsets(tps)
        except Exception as exc:
            raise self._fail(exc) from exc
        await self._wait_for({tp: ends[tp] for tp in tps})

    # --- reads (call sync() first) ------------------------------------------------------------------------

    def get(self, processor_id: str) -> ProcessorRecord | None:
        return self._records.get(processor_id)

    def by_name(self, name: str) -> ProcessorRecord | None:
        return next((r for r in self._records.values() if r.name == name), None)

    def records(self) -> list[ProcessorRecord]:
        """Live processors, by name."""
        return sorted(self._records.values(), key=lambda r: (r.name, r.processor_id))

    def snapshots(self, processor_id: str) -> Iterable[MetricsSnapshot]:
        """The latest snapshot of each worker that reported for this processor (any version)."""
        return list(self._snapshots.get(processor_id, {}).values())

    # --- writes (hold write_lock around read-modify-write) ------------------------------------------------

    async def write(self, record: ProcessorRecord) -> None:
        """Store a new version (or desired state) of a processor; returns once this gateway reads it back."""
        await self._publish(record.processor_id, record.to_json())

    async def remove(self, processor_id: str) -> None:
        """Write the tombstone that deletes a processor; returns once this gateway reads it back."""
        await self._publish(processor_id, None)

    async def _publish(self, processor_id: str, value: bytes | None) -> None:
        await self.start()
        record = OutgoingRecord(processor_id.encode(), value, [], now_ms(), partition=0)
        ack = await self._producer.publish(SPEC_TOPIC, record, self._settings.produce_timeout_ms)
        await self._wait_for({_SPEC: ack.offset + 1})

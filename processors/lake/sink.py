"""The lake sink: tenants' raw streams -> per-dataset micro-batches -> Iceberg commits, exactly once.

`python -m processors.lake.sink --bootstrap HOST:PORT` (settings from `KAFKAGATE_LAKE_*`); `kafkagate worker`
keeps one running (`processors.lake.service`). Sinks on several machines share the raw partitions through one
consumer group (`KAFKAGATE_LAKE_SINK_GROUP`).

Exactly once, without a store of its own: a table's commit carries the raw offsets it covers in its snapshot
summary, atomically with its rows (`processors.lake.writer`). The consumer group's offsets are only a place to
resume from, committed after the Iceberg commits and dead letters they pass, so they are never ahead of the
lake; whatever is read again after a crash is dropped per table by those summary offsets, and an `event_id`
the table (or the batch) already holds is dropped too.

An event that cannot be written (not a raw event, an unknown or unpublished schema, a payload the schema
refuses, no dataset bound to its schema, a value a column cannot hold) goes to the tenant's dead-letter stream
(`<raw stream>.dlq`) with the reason in `kafkagate-*` headers (`schemas.dead_letters`) and never blocks its
partition. Dead letters are at least once: a crash between one and the next offset commit writes it again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import signal
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from pydantic import ValidationError
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError

from processors.lake import layout
from processors.lake.batches import DatasetBatch, Pending, Progress, TopicPartitionKey
from processors.lake.catalog import open_catalog
from processors.lake.event_time import parse_timestamp
from processors.lake.registry import LakeRegistry
from processors.lake.settings import LakeSettings
from processors.lake.writer import TableWriter
from schemas import dead_letters as dl
from schemas.lake import RAW_STREAM, DatasetRecord, RawEvent, dataset_key

log = logging.getLogger(__name__)

RAW_TOPICS = re.compile(r"^_t\.([a-z0-9-]+)\." + re.escape(RAW_STREAM) + "$")


def raw_topics(tenants: str) -> str:
    """The pattern of the raw streams of the tenants whose slugs match `tenants`."""
    return r"^_t\.(?:" + tenants + r")\." + re.escape(RAW_STREAM) + "$"


REASON_LAKE = "lake"
DATASET_HEADER = "kafkagate-lake-dataset"
_MAX_POLL_RECORDS = 5_000


Resolved = tuple[RawEvent, list[DatasetRecord], datetime, datetime]


class Unwritable(Exception):
    """An event the lake cannot take; `reason` goes to the dead letter's `kafkagate-error` header."""


class LakeSink:
    def __init__(self, bootstrap: str, settings: LakeSettings, catalog: Catalog | None = None):
        self.bootstrap = bootstrap
        self.settings = settings
        self._catalog = catalog
        self.registry = LakeRegistry(bootstrap)
        self.progress = Progress()
        self.batches: dict[str, DatasetBatch] = {}
        self.writers: dict[str, TableWriter] = {}
        self.rows_committed = 0
        self.first_read_at: float | None = None  # time.monotonic() of the first record read
        self.dead_lettered = 0
        self._dead: list[asyncio.Future[Any]] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._dlq_ready: set[str] = set()
        self._last_commit: dict[TopicPartition, OffsetAndMetadata] = {}
        self._stopping = asyncio.Event()

    # --- lifecycle ----------------------------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        if self._catalog is None:
            self._catalog = await asyncio.to_thread(open_catalog, self.settings)
        await self.registry.start()
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True)
        await self._producer.start()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.settings.sink_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5_000,  # new tenants' raw streams are found within this
            max_poll_records=_MAX_POLL_RECORDS,
        )
        await consumer.start()
        self._consumer = consumer
        consumer.subscribe(pattern=raw_topics(self.settings.sink_tenants), listener=_Listener(self))
        try:
            while not self._stopping.is_set():
                wait_ms = int(min(1.0, self.settings.flush_interval_s) * 1000)
                fetched = await consumer.getmany(timeout_ms=wait_ms)
                if fetched:
                    if self.first_read_at is None:
                        self.first_read_at = time.monotonic()
                    await self.registry.poll()
                for tp, records in fetched.items():
                    for record in records:
                        await self._route(record)
                        self.progress.advance(tp.topic, tp.partition, record.offset)
                await self.flush(force=False)
            await self.flush(force=True)
        finally:
            await consumer.stop()
            await self._producer.stop()
            await self.registry.close()

    # --- routing ------------------------------------------------------------------------------------------

    async def _route(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            event, datasets, timestamp, received_at = await self._resolve(record)
            payload = _json_text(event.payload)
        except Unwritable as exc:
            await self._dead_letter(record, str(exc))
            return
        metadata = {
            layout.EVENT_ID: event.event_id,
            layout.TIMESTAMP: timestamp,
            "_schema_uri": event.schema_uri,
            "_received_at": received_at,
            "_kafka_partition": record.partition,
            "_kafka_offset": record.offset,
            layout.PAYLOAD: payload,
        }
        for dataset in datasets:
            key = dataset_key(dataset.tenant_id, dataset.slug)
            try:
                writer = await self._writer(dataset)
            except Unwritable as exc:
                await self._dead_letter(record, str(exc), dataset.slug)
                continue
            if record.offset < writer.committed.get((record.topic, record.partition), 0):
                continue  # this table committed it before a crash or a rebalance
            try:
                row = writer.shape.row(event.payload, metadata)
            except layout.Unholdable as exc:
                await self._dead_letter(record, str(exc), dataset.slug)
                continue
            batch = self.batches.setdefault(key, DatasetBatch(time.monotonic()))
            batch.add(Pending(event.event_id, record.topic, record.partition, record.offset, row))

    async def _resolve(self, record: ConsumerRecord[bytes, bytes]) -> Resolved:
        """The event and its datasets. Before calling it unwritable, catch up with the registries once: the
        schema may have been published, or the dataset created, a moment before the event was collected."""
        try:
            return self._resolve_now(record)
        except Unwritable:
            await self.registry.sync()
            return self._resolve_now(record)

    def _resolve_now(self, record: ConsumerRecord[bytes, bytes]) -> Resolved:
        match = RAW_TOPICS.match(record.topic)
        if match is None or record.value is None:
            raise Unwritable("not a raw event")
        try:
            event = RawEvent.model_validate_json(record.value)
            timestamp = parse_timestamp(event.timestamp)
            received_at = parse_timestamp(event.received_at)
        except (ValidationError, ValueError) as exc:
            raise Unwritable(f"not a raw event: {str(exc).splitlines()[0]}") from exc
        tenant = self.registry.tenant_by_slug(match.group(1))
        schema = self.registry.schema(event.schema_id)
        if tenant is None:
            raise Unwritable(f"no tenant holds the slug {match.group(1)!r}")
        if schema is None or schema.tenant_id != tenant.id:
            raise Unwritable(f"unknown schema {event.schema_id!r}")
        if schema.status != "published":
            raise Unwritable(f"schema {schema.uri!r} is not published")
        validator = self.registry.validator(schema)
        if not validator.is_valid(event.payload):
            first = next(iter(validator.iter_errors(event.payload)))
            raise Unwritable(f"the payload breaks schema {schema.uri!r}: {first.message}")
        datasets = self.registry.datasets(tenant.id, schema.uri)
        if not datasets:
            raise Unwritable(f"no dataset is bound to schema {schema.uri!r}")
        return event, datasets, timestamp, received_at

    async def _writer(self, dataset: DatasetRecord) -> TableWriter:
        key = dataset_key(dataset.tenant_id, dataset.slug)
        writer = self.writers.get(key)
        if writer is None or writer.identifier != (dataset.iceberg_namespace, dataset.iceberg_table):
            assert self._catalog is not None  # noqa: S101 - opened in run()
            identifier = (dataset.iceberg_namespace, dataset.iceberg_table)
            try:
                writer = await asyncio.to_thread(TableWriter, self._catalog, identifier, self.settings)
            except NoSuchTableError as exc:
                raise Unwritable(
                    f"dataset {dataset.slug!r} has no table {'.'.join(identifier)} in the catalog"
                ) from exc
            self.writers[key] = writer
        return writer

    # --- dead letters -------------------------------------------------------------------------------------

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str, dataset: str | None = None) -> None:
        assert self._producer is not None  # noqa: S101 - started in run()
        dlq = dl.dlq_topic(record.topic)
        await self._ensure_dlq(record.topic, dlq)
        headers = [
            *((name, value) for name, value in (record.headers or ())),
            (dl.REASON, REASON_LAKE.encode()),
            (dl.ERROR, reason.encode()),
            (dl.SOURCE_TOPIC, record.topic.encode()),
            (dl.SOURCE_PARTITION, str(record.partition).encode()),
            (dl.SOURCE_OFFSET, str(record.offset).encode()),
            (dl.SOURCE_TIMESTAMP, str(record.timestamp).encode()),
        ]
        if dataset is not None:
            headers.append((DATASET_HEADER, dataset.encode()))
        log.info("dead-lettering %s/%d@%d: %s", record.topic, record.partition, record.offset, reason)
        future = await self._producer.send(dlq, record.value, key=record.key, headers=headers)
        self._dead.append(future)
        self.dead_lettered += 1

    async def _ensure_dlq(self, topic: str, dlq: str) -> None:
        """The gateway creates a tenant's dead-letter stream with its raw stream; this covers raw streams made
        some other way (the native API)."""
        if dlq in self._dlq_ready:
            return
        assert self._consumer is not None  # noqa: S101 - started in run()
        partitions = self._consumer.partitions_for_topic(topic) or {0}
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(dlq, len(partitions), 1)])
        finally:
            await admin.close()
        self._dlq_ready.add(dlq)

    # --- flushing -----------------------------------------------------------------------------------------

    async def flush(self, *, force: bool, only: Sequence[TopicPartitionKey] | None = None) -> None:
        """Commit the due batches (every batch when `force`) to Iceberg, then the consumer offsets they free."""
        now = time.monotonic()
        for key, batch in list(self.batches.items()):
            touches = only is not None and any(k in batch.first_offsets() for k in only)
            if not (force or touches or batch.due(now, self.settings.flush_interval_s, self.settings.flush_rows)):
                continue
            writer = self.writers[key]
            started = time.monotonic()
            written = await asyncio.to_thread(writer.commit, batch.events)
            self.rows_committed += written
            log.info(
                "committed %d of %d rows to %s in %.2f s",
                written,
                len(batch.events),
                ".".join(writer.identifier),
                time.monotonic() - started,
            )
            del self.batches[key]
        await self._commit_offsets()

    async def _commit_offsets(self) -> None:
        if self._dead:
            pending, self._dead = self._dead, []
            await asyncio.gather(*pending)  # a dead letter Kafka refused fails the sink: it restarts and retries
        assert self._consumer is not None  # noqa: S101 - started in run()
        offsets = self.progress.committable(batch.first_offsets() for batch in self.batches.values())
        assigned = self._consumer.assignment()
        wanted = {
            TopicPartition(topic, partition): OffsetAndMetadata(offset, "")
            for (topic, partition), offset in offsets.items()
            if TopicPartition(topic, partition) in assigned
        }
        if wanted and wanted != self._last_commit:
            await self._consumer.commit(wanted)
            self._last_commit = wanted

    async def revoked(self, revoked: set[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in revoked]
        await self.flush(force=False, only=keys)
        self.progress.forget(keys)

    async def assigned(self) -> None:
        # Another sink may have committed to these tables while they were its partitions.
        for writer in list(self.writers.values()):
            await asyncio.to_thread(writer.refresh)


def _json_text(payload: dict[str, Any]) -> str:
    try:
        return orjson.dumps(payload).decode()
    except TypeError as exc:  # orjson refuses integers outside 64 bits
        raise Unwritable(f"the payload cannot be stored as JSON text: {exc}") from exc


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc] # aiokafka is untyped
    def __init__(self, sink: LakeSink):
        self.sink = sink

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.sink.revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.sink.assigned()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m processors.lake.sink", description="the kafkagate lake sink")
    parser.add_argument("--bootstrap", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = LakeSettings()

    async def run() -> None:
        sink = LakeSink(args.bootstrap, settings)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, sink.request_stop)
        await sink.run()

    asyncio.run(run())


if __name__ == "__main__":
    main()

"""The produce adapter: idempotent `acks=all` producers, one per compression codec, rebuilt when they break.

A 2xx from the gateway means this module saw Kafka acknowledge the record from every in-sync replica.
Single events go through `AIOKafkaProducer.send`, where concurrent requests share batches (`linger_ms`).
A batch request is split per partition into record batches built here (`create_batch`/`send_batch`), so a
request of N events costs one future per partition batch rather than one per event.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from aiokafka import AIOKafkaProducer
from aiokafka import errors as ke

from gateway import errors as ge
from gateway.kafka.replicas import InsyncReplicas
from gateway.kafka.translate import translate
from gateway.partitioner import partition_for_key, partitions_for_keys
from gateway.settings import Compression, Settings

log = logging.getLogger(__name__)

# Errors after which aiokafka's idempotent producer cannot continue safely (aiokafka #1017 and friends).
_FATAL = (
    ke.IllegalStateError,
    ke.OutOfOrderSequenceNumber,
    ke.UnknownProducerId,
    ke.ProducerFenced,
    ke.ProducerClosed,
    ke.InvalidProducerEpoch,
)
_BATCH_BYTES = 256 * 1024
_Fail = Callable[[BaseException], ge.GatewayError]


@dataclass(slots=True)
class OutgoingRecord:
    """One record, already serialized. `partition` is final when set; otherwise `key` decides."""

    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    timestamp_ms: int
    partition: int | None = None


class Ack(NamedTuple):
    """Where Kafka wrote a record. A tuple: one is built per event on the batch path, where a frozen dataclass's
    `__init__` (`object.__setattr__` per field) cost about 4x as much."""

    partition: int
    offset: int
    timestamp_ms: int


class AckTimeout(ge.OperationTimeout):
    """The gateway stopped waiting, but the send goes on: `outcome()` waits for what Kafka finally answered.

    aiokafka resolves a send's future when the produce request completes, fails or expires, whether or not
    anyone still waits for it, so the real outcome of a 504 is learned later (the idempotency layer stores it).
    """

    def __init__(self, detail: str, pending: asyncio.Future[Any], relative: int, record: OutgoingRecord, fail: _Fail):
        super().__init__(detail)
        self._pending = pending
        self._relative = relative  # the record's place in its record batch: offset = base offset + relative
        self._timestamp_ms = record.timestamp_ms
        self._translate = fail

    async def outcome(self) -> Ack | ge.GatewayError:
        try:
            # Shielded: a cancelled waiter (shutdown) must not cancel aiokafka's own future.
            meta = await asyncio.shield(self._pending)
        except Exception as exc:  # noqa: BLE001 - the outcome is reported, not raised
            return self._translate(exc)
        return Ack(meta.partition, meta.offset + self._relative, self._timestamp_ms)


def _retrieve(future: asyncio.Future[Any]) -> None:
    # Nobody may await a send the gateway gave up on; reading its exception keeps asyncio from logging it.
    if not future.cancelled():
        future.exception()


class ProducerPool:
    """Owns the producers. `ready` is False until the default producer is connected, and while rebuilding."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._producers: dict[Compression, AIOKafkaProducer] = {}
        self._lock = asyncio.Lock()
        self.ready = False
        self.broken = asyncio.Event()

    def _build(self, compression: Compression) -> AIOKafkaProducer:
        s = self._settings
        return AIOKafkaProducer(
            bootstrap_servers=s.bootstrap_servers,
            client_id=f"{s.client_id}-producer",
            acks="all",
            enable_idempotence=True,
            compression_type=None if compression == "none" else compression,
            linger_ms=s.producer_linger_ms,
            max_batch_size=_BATCH_BYTES,
            max_request_size=s.producer_max_request_bytes,
            request_timeout_ms=s.producer_request_timeout_ms,
            metadata_max_age_ms=s.metadata_max_age_ms,
        )

    async def get(self, compression: Compression | None = None) -> AIOKafkaProducer:
        codec: Compression = compression or self._settings.producer_compression
        producer = self._producers.get(codec)
        if producer is not None:
            return producer
        async with self._lock:
            producer = self._producers.get(codec)
            if producer is None:
                producer = self._build(codec)
                try:
                    await producer.start()
                except BaseException as exc:
                    await producer.stop()
                    raise translate(exc, retry_after_s=self._settings.retry_after_s) from exc
                self._producers[codec] = producer
                if codec == self._settings.producer_compression:
                    self.ready = True
                    self.broken.clear()
            return producer

    async def discard(self, producer: AIOKafkaProducer) -> None:
        """Drop a producer that hit a fatal error; the next request builds a fresh one."""
        async with self._lock:
            for codec, held in list(self._producers.items()):
                if held is producer:
                    del self._producers[codec]
                    if codec == self._settings.producer_compression:
                        self.ready = False
                        self.broken.set()
        log.warning("producer entered a fatal state; rebuilding it")
        await producer.stop()

    async def close(self) -> None:
        async with self._lock:
            producers, self._producers = list(self._producers.values()), {}
            self.ready = False
        for producer in producers:
            await producer.stop()


class EventProducer:
    """Publishes records and reports per-record acknowledgements."""

    def __init__(self, pool: ProducerPool, settings: Settings):
        self._pool = pool
        self._settings = settings
        self._replicas = InsyncReplicas(settings.retry_after_s)

    def _fail(self, exc: BaseException, stream: str) -> ge.GatewayError:
        return translate(exc, stream=stream, retry_after_s=self._settings.retry_after_s)

    def _timeout(
        self, detail: str, pending: asyncio.Future[Any], relative: int, record: OutgoingRecord, stream: str
    ) -> AckTimeout:
        pending.add_done_callback(_retrieve)
        error = AckTimeout(detail, pending, relative, record, lambda exc: self._fail(exc, stream))
        error.retry_after_s = self._settings.retry_after_s
        return error

    @staticmethod
    async def settle(outcomes: Sequence[Ack | ge.GatewayError]) -> list[Ack | ge.GatewayError]:
        """`outcomes` of `publish_batch` with every timed-out record replaced by what Kafka finally answered."""
        return [await o.outcome() if isinstance(o, AckTimeout) else o for o in outcomes]

    def _partition(
        self, producer: AIOKafkaProducer, stream: str, record: OutgoingRecord, min_insync: int
    ) -> int | None:
        """Where `record` goes. A stream that wants more than one in-sync replica gets its partition chosen here,
        among those that can take it, and a 503 (`InsyncReplicas`) when its partition cannot; otherwise None
        leaves a keyless record to aiokafka's partitioner."""
        if min_insync <= 1:
            return record.partition
        partition = record.partition
        if partition is None:
            count = len(producer.client.cluster.partitions_for_topic(stream) or ())
            if count == 0:
                return None
            if record.key is not None:
                partition = partition_for_key(record.key, count)
            else:
                writable = self._replicas.writable(producer, stream, count, min_insync)
                partition = random.choice(writable)  # noqa: S311 - load spreading, not security
        refusal = self._replicas.refusal(producer, stream, partition, min_insync)
        if refusal is not None:
            raise refusal
        return partition

    async def publish(self, stream: str, record: OutgoingRecord, timeout_ms: int, *, min_insync: int = 1) -> Ack:
        """Send one record and wait up to `timeout_ms` for its acknowledgement (then raise `AckTimeout`).
        `min_insync` is the stream's `min.insync.replicas`: a record its partition cannot take is refused (503)."""
        producer = await self._pool.get()
        partition = self._partition(producer, stream, record, min_insync)
        try:
            future = await producer.send(
                stream,
                value=record.value,
                key=record.key,
                partition=partition,
                timestamp_ms=record.timestamp_ms,
                headers=record.headers,
            )
            meta = await asyncio.wait_for(asyncio.shield(future), timeout_ms / 1000)
        except TimeoutError as exc:
            self._replicas.unanswered(producer)
            detail = f"Kafka did not acknowledge within {timeout_ms} ms; the event may or may not have been written"
            raise self._timeout(detail, future, 0, record, stream) from exc
        except _FATAL as exc:
            await self._pool.discard(producer)
            raise self._fail(exc, stream) from exc
        except Exception as exc:
            raise self._fail(exc, stream) from exc
        return Ack(meta.partition, meta.offset, record.timestamp_ms)

    async def publish_batch(
        self,
        stream: str,
        records: Sequence[OutgoingRecord],
        partitions: int,
        *,
        compression: Compression | None,
        timeout_ms: int,
        min_insync: int = 1,
    ) -> list[Ack | ge.GatewayError]:
        """Publish `records` in order per partition; the result list matches `records` index by index.

        Records not acknowledged within `timeout_ms` get an `AckTimeout` (see `settle`); those for a partition
        with fewer in-sync replicas than `min_insync` are not sent and get a 503 (`InsyncReplicas`)."""
        producer = await self._pool.get(compression)
        results: list[Ack | ge.GatewayError | None] = [None] * len(records)
        batches = self._build(
            producer, records, partitions, results, self._sticky(producer, stream, partitions, min_insync)
        )
        futures: dict[asyncio.Future[Any], _Batch] = {}
        for batch in batches:
            refusal = self._replicas.refusal(producer, stream, batch.partition, min_insync)
            if refusal is not None:
                for i in batch.members:
                    results[i] = refusal
                continue
            try:
                futures[await producer.send_batch(batch.builder, stream, partition=batch.partition)] = batch
            except Exception as exc:  # noqa: BLE001 - reported per event
                await self._fail_batch(producer, exc, stream, batch, results)
        if futures:
            done, pending = await asyncio.wait(futures, timeout=timeout_ms / 1000)
            for future in done:
                batch = futures[future]
                error = future.exception()
                if error is not None:
                    await self._fail_batch(producer, error, stream, batch, results)
                    continue
                base = future.result().offset
                for relative, i in enumerate(batch.members):
                    results[i] = Ack(batch.partition, base + relative, records[i].timestamp_ms)
            detail = f"not acknowledged within {timeout_ms} ms; the event may or may not have been written"
            if pending:
                self._replicas.unanswered(producer)
            for future in pending:
                for relative, i in enumerate(futures[future].members):
                    results[i] = self._timeout(detail, future, relative, records[i], stream)
        return [r if r is not None else ge.GatewayError("event was not sent") for r in results]

    def _sticky(self, producer: AIOKafkaProducer, stream: str, partitions: int, min_insync: int) -> int:
        """The partition a batch's records with neither partition nor key go to: any, or one that can take them."""
        if min_insync <= 1:
            return random.randrange(partitions)  # noqa: S311 - load spreading, not security
        return random.choice(self._replicas.writable(producer, stream, partitions, min_insync))  # noqa: S311 - same

    @staticmethod
    def _build(
        producer: AIOKafkaProducer,
        records: Sequence[OutgoingRecord],
        partitions: int,
        results: list[Ack | ge.GatewayError | None],
        sticky: int,
    ) -> list[_Batch]:
        """Group records into record batches per partition, keeping their order; oversize ones fail here.
        Records with neither partition nor key all go to `sticky`."""
        open_batches: dict[int, _Batch] = {}
        sealed: list[_Batch] = []
        keyed: list[int] = []
        keys: list[bytes] = []
        for index, record in enumerate(records):
            if record.partition is None and record.key is not None:
                keyed.append(index)
                keys.append(record.key)
        by_key = dict(zip(keyed, partitions_for_keys(keys, partitions), strict=True))  # hashed together: fast
        for index, record in enumerate(records):
            if record.partition is not None:
                partition = record.partition
            elif record.key is not None:
                partition = by_key[index]
            else:
                partition = sticky
            batch = open_batches.get(partition)
            if batch is None or not batch.append(index, record):
                if batch is not None:
                    sealed.append(batch)
                batch = open_batches[partition] = _Batch(partition, producer.create_batch())
                if not batch.append(index, record):
                    results[index] = ge.PayloadTooLarge("record is larger than the producer's request limit")
        sealed.extend(b for b in open_batches.values() if b.members)
        return sealed

    async def _fail_batch(
        self,
        producer: AIOKafkaProducer,
        exc: BaseException,
        stream: str,
        batch: _Batch,
        results: list[Ack | ge.GatewayError | None],
    ) -> None:
        if isinstance(exc, _FATAL):
            await self._pool.discard(producer)
        error = self._fail(exc, stream)
        for i in batch.members:
            results[i] = error


@dataclass(slots=True)
class _Batch:
    partition: int
    builder: Any
    members: list[int] = field(default_factory=list)

    def append(self, index: int, record: OutgoingRecord) -> bool:
        added = self.builder.append(
            key=record.key, value=record.value, timestamp=record.timestamp_ms, headers=record.headers
        )
        if added is None:
            return False
        self.members.append(index)
        return True

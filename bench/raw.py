"""The baseline: the same workloads through plain aiokafka clients, configured like the gateway's own."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench import payload
from bench.cpu import CpuProbe
from bench.measurement import Measurement, Window, run_concurrently
from gateway.kafka.producer import _BATCH_BYTES as GATEWAY_BATCH_BYTES
from gateway.partitioner import partition_for_key
from gateway.settings import Settings

NAIVE = "aiokafka send"  # one `send` per event, as a hand-written client would
BATCHED = "aiokafka send_batch"  # record batches built per partition: the Python ceiling
CONSUMER = "aiokafka getmany"


def producer_options(settings: Settings) -> dict[str, Any]:
    """The gateway's producer settings (see `gateway.kafka.producer.ProducerPool._build`), minus its client id."""
    return {
        "bootstrap_servers": settings.bootstrap_servers,
        "client_id": "kafkagate-bench-raw",
        "acks": "all",
        "enable_idempotence": True,
        "compression_type": None if settings.producer_compression == "none" else settings.producer_compression,
        "linger_ms": settings.producer_linger_ms,
        "max_batch_size": GATEWAY_BATCH_BYTES,
        "max_request_size": settings.producer_max_request_bytes,
        "request_timeout_ms": settings.producer_request_timeout_ms,
        "metadata_max_age_ms": settings.metadata_max_age_ms,
    }


async def produce_single(
    producer: AIOKafkaProducer,
    topic: str,
    scenario: str,
    *,
    count: int,
    concurrency: int,
    first_index: int = 0,
    probe: CpuProbe | None = None,
) -> Measurement:
    """`count` awaited `send_and_wait` calls from `concurrency` tasks."""

    async def send(index: int) -> None:
        i = first_index + index
        await producer.send_and_wait(topic, payload.VALUE, key=payload.key(i).encode())

    window, latencies = await run_concurrently(count, concurrency, send, probe)
    return Measurement(scenario, NAIVE, count, window.seconds, latencies, window.cpu)


async def produce_batches(
    producer: AIOKafkaProducer,
    topic: str,
    scenario: str,
    *,
    batches: int,
    size: int,
    in_flight: int,
    first_index: int = 0,
    probe: CpuProbe | None = None,
) -> Measurement:
    """`batches` rounds of `size` `send` calls whose acknowledgements are all awaited, `in_flight` rounds at once."""

    async def send_batch(batch: int) -> None:
        start = first_index + batch * size
        futures = [
            await producer.send(topic, payload.VALUE, key=payload.key(i).encode()) for i in range(start, start + size)
        ]
        await asyncio.gather(*futures)

    window, latencies = await run_concurrently(batches, in_flight, send_batch, probe)
    return Measurement(scenario, NAIVE, batches * size, window.seconds, latencies, window.cpu)


async def produce_record_batches(
    producer: AIOKafkaProducer,
    topic: str,
    scenario: str,
    *,
    batches: int,
    size: int,
    in_flight: int,
    partitions: int,
    first_index: int = 0,
    probe: CpuProbe | None = None,
) -> Measurement:
    """The same rounds, each split by key into per-partition record batches (`create_batch`/`send_batch`),
    partitioned like the gateway does it (Kafka's murmur2)."""

    async def send_batch(batch: int) -> None:
        start = first_index + batch * size
        builders: dict[int, Any] = {}
        futures = []
        for i in range(start, start + size):
            key = payload.key(i).encode()
            partition = partition_for_key(key, partitions)
            builder = builders.get(partition)
            if builder is None:
                builder = builders[partition] = producer.create_batch()
            if builder.append(key=key, value=payload.VALUE, timestamp=None) is None:
                futures.append(await producer.send_batch(builder, topic, partition=partition))
                builder = builders[partition] = producer.create_batch()
                builder.append(key=key, value=payload.VALUE, timestamp=None)
        for partition, builder in builders.items():
            futures.append(await producer.send_batch(builder, topic, partition=partition))
        await asyncio.gather(*futures)

    window, latencies = await run_concurrently(batches, in_flight, send_batch, probe)
    return Measurement(scenario, BATCHED, batches * size, window.seconds, latencies, window.cpu)


async def consume(
    settings: Settings,
    topic: str,
    group: str,
    scenario: str,
    *,
    count: int,
    max_records: int,
    probe: CpuProbe | None = None,
) -> Measurement:
    """Join `group`, then read `topic` from the beginning with `getmany` until `count` records arrived.

    Joining the group and the first fetch are warm-up; the clock starts at the seek back to the beginning,
    which is what the gateway's first measured poll (`offset=earliest`) does too.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id="kafkagate-bench-raw-consumer",
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        consumer.subscribe([topic])
        async with asyncio.timeout(30):
            while not await consumer.getmany(timeout_ms=500, max_records=1):
                pass
        latencies: list[float] = []
        read = 0
        with Window(probe) as window:
            await consumer.seek_to_beginning()
            while read < count:
                poll_started = time.perf_counter()
                batches = await consumer.getmany(timeout_ms=1000, max_records=max_records)
                read += sum(len(records) for records in batches.values())
                latencies.append(time.perf_counter() - poll_started)
    finally:
        await consumer.stop()
    return Measurement(scenario, CONSUMER, read, window.seconds, latencies, window.cpu)

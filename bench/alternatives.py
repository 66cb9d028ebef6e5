"""The produce path's plausible alternative, measured before it is rejected: librdkafka (`confluent-kafka`)
against aiokafka, in one process, the same events, the same broker and producer settings.

    KAFKAGATE_BENCH_BOOTSTRAP=host:port python -m bench.alternatives [EVENTS]

What matters for the gateway is CPU per event in its own process (the gateway is CPU-bound on a shared
machine), so each client reports its events/s and the process CPU it used per 1,000 events. librdkafka
encodes and sends from its own C threads: its CPU shows in the process total, outside the GIL.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench import payload, raw
from gateway.kafka.producer import _BATCH_BYTES as GATEWAY_BATCH_BYTES
from gateway.settings import Settings

_BATCH = 1000


def _cpu_s() -> float:
    usage = os.times()
    return usage.user + usage.system  # every thread of this process, librdkafka's included


def _line(name: str, events: int, seconds: float, cpu_s: float) -> str:
    return f"  {name:<34} {events / seconds:>10,.0f} events/s   {cpu_s / events * 1e6:6.1f} us CPU per event"


async def _aiokafka(settings: Settings, topic: str, events: int) -> str:
    producer = AIOKafkaProducer(**raw.producer_options(settings))
    await producer.start()
    try:
        await raw.produce_record_batches(producer, topic, "warm-up", batches=5, size=_BATCH, in_flight=4, partitions=3)
        cpu, started = _cpu_s(), time.perf_counter()
        await raw.produce_record_batches(
            producer, topic, "alt", batches=events // _BATCH, size=_BATCH, in_flight=4, partitions=3
        )
        return _line("aiokafka create_batch/send_batch", events, time.perf_counter() - started, _cpu_s() - cpu)
    finally:
        await producer.stop()


def _librdkafka(settings: Settings, topic: str, events: int) -> str:
    from confluent_kafka import Producer

    producer = Producer(
        {
            "bootstrap.servers": settings.bootstrap_servers,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": settings.producer_linger_ms,
            "batch.size": GATEWAY_BATCH_BYTES,
            "compression.type": settings.producer_compression,
        }
    )
    failures: list[Any] = []

    def report(error: Any, message: Any) -> None:
        if error is not None:
            failures.append(error)

    def produce(count: int, first: int) -> None:
        for i in range(first, first + count):
            while True:
                try:
                    producer.produce(topic, payload.VALUE, payload.key(i).encode(), on_delivery=report)
                    break
                except BufferError:  # its local queue is full: serve deliveries, then retry
                    producer.poll(0.01)
            producer.poll(0)
        producer.flush(60)

    produce(5 * _BATCH, 0)
    cpu, started = _cpu_s(), time.perf_counter()
    produce(events, 5 * _BATCH)
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"librdkafka reported {len(failures)} failed deliveries, first: {failures[0]}")
    return _line("confluent-kafka produce (librdkafka)", events, elapsed, _cpu_s() - cpu)


async def _topic(bootstrap: str) -> str:
    name = f"kafkagate-bench-alt-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 3, 1)])
    finally:
        await admin.close()
    return name


def main(events: int) -> None:
    bootstrap = os.environ.get("KAFKAGATE_BENCH_BOOTSTRAP")
    if not bootstrap:
        raise SystemExit("set KAFKAGATE_BENCH_BOOTSTRAP=host:port to a running broker")
    settings = Settings(bootstrap_servers=bootstrap, auth="off")
    linger = settings.producer_linger_ms
    print(f"{events:,} events of {len(payload.VALUE)} bytes, acks=all, idempotent, linger {linger} ms")
    print(asyncio.run(_aiokafka(settings, asyncio.run(_topic(bootstrap)), events)))
    print(_librdkafka(settings, asyncio.run(_topic(bootstrap)), events))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)

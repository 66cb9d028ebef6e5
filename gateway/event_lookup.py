"""Reading one event by its position (partition, offset), for every API that resolves event ids."""

from __future__ import annotations

from gateway.kafka.clients import KafkaClients
from gateway.records import KafkaRecord

_READ_TIMEOUT_MS = 5000


async def lookup(kafka: KafkaClients, topic: str, partition: int, offset: int) -> KafkaRecord | None:
    """The record of `topic` at (`partition`, `offset`), or None when there is none: a partition the stream
    lacks, an offset outside what it stores (not written yet, or deleted by retention), or a gap left by
    compaction or an aborted transaction. `StreamNotFound` when the stream does not exist."""
    kafka.require_ready()
    partitions, _ = await kafka.admin.limits(topic)
    if not 0 <= partition < partitions or offset < 0:
        return None
    start, end = (await kafka.admin.offset_range(topic, [partition]))[partition]
    if not start <= offset < end:
        return None
    records = await kafka.groups.read(topic, partition, offset, 1, _READ_TIMEOUT_MS)
    # A compacted or aborted record leaves a gap: the first record returned is then a later one.
    if not records or records[0].offset != offset:
        return None
    found: KafkaRecord = records[0]
    return found

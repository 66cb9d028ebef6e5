"""Finding the records a request wrote, by the request id the gateway stamps on every record (`x-request-id`).

Used when a gateway takes over an idempotency key whose owner stopped (`gateway.takeover`): the records that
owner wrote, if any, are somewhere after the time it claimed the key. A plain consumer (no group) asks each
partition for its first offset at or after `since_ms` and reads it up to the end offset it had when the search
began, keeping the records whose stamp is one of `request_ids`. Kafka answers `offsets_for_times` with the
earliest offset whose timestamp is at or after the time asked, whatever order the timestamps are in, so a record
carrying an older timestamp of its client's choosing is found as long as `since_ms` is no later than it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from gateway.kafka import connect
from gateway.record_stamps import REQUEST_ID_HEADER
from gateway.settings import Settings

_FETCH_TIMEOUT_MS = 500


@dataclass(frozen=True, slots=True)
class StampedRecord:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


async def search(
    settings: Settings, topics: Sequence[str], request_ids: Collection[bytes], since_ms: int
) -> list[StampedRecord]:
    """Every record of `topics` (those that exist) stamped with one of `request_ids`, written since `since_ms`."""
    consumer = connect.consumer(settings, "takeover", group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # the topics may be new to this client
        ends: dict[TopicPartition, int] = {}
        for topic in topics:
            ends.update(await _ranges(consumer, topic, since_ms))
        found: list[StampedRecord] = []
        while ends:
            batches = await consumer.getmany(*ends, timeout_ms=_FETCH_TIMEOUT_MS)
            for tp, records in batches.items():
                found.extend(_stamped(tp, records, request_ids, ends.get(tp, 0)))
            for tp in list(ends):
                if await consumer.position(tp) >= ends[tp]:
                    del ends[tp]
            consumer.pause(*(tp for tp in consumer.assignment() if tp not in ends))
        return found
    finally:
        await consumer.stop()


async def _ranges(consumer: AIOKafkaConsumer, topic: str, since_ms: int) -> dict[TopicPartition, int]:
    """Assign `topic`'s partitions (none if it does not exist), seek each to `since_ms`; return the end offsets
    of those with something to read."""
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        return {}
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign([*consumer.assignment(), *tps])
    starts = await consumer.offsets_for_times(dict.fromkeys(tps, max(0, since_ms)))
    ends = await consumer.end_offsets(tps)
    ranges: dict[TopicPartition, int] = {}
    for tp in tps:
        start = starts.get(tp)
        first = ends[tp] if start is None else start.offset
        if first < ends[tp]:
            consumer.seek(tp, first)
            ranges[tp] = ends[tp]
    consumer.pause(*(tp for tp in tps if tp not in ranges))
    return ranges


def _stamped(
    tp: TopicPartition, records: Sequence[ConsumerRecord[bytes, bytes]], request_ids: Collection[bytes], end: int
) -> list[StampedRecord]:
    kept: list[StampedRecord] = []
    for record in records:
        if record.offset >= end:
            break
        headers = tuple(record.headers)
        stamp = next((value for name, value in headers if name == REQUEST_ID_HEADER), None)
        if stamp is not None and stamp in request_ids:
            kept.append(
                StampedRecord(
                    tp.topic, tp.partition, record.offset, record.timestamp, record.key, record.value, headers
                )
            )
    return kept

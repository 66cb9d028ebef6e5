"""Produce through the gateway, then read the topic back with a plain aiokafka consumer."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import orjson
import pytest
from aiokafka.partitioner import murmur2 as kafka_murmur2

from gateway.partitioner import partition_for_key
from tests.conftest import Broker
from tests.integration.conftest import read_all

pytestmark = pytest.mark.kafka

NewStream = Callable[..., Awaitable[str]]


def headers_of(record: object) -> dict[str, bytes]:
    return dict(record.headers)  # type: ignore[attr-defined]


async def test_single_event_lands_exactly_as_sent(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=3, configs={"retention.ms": "-1"})  # the event is dated 2025
    body = {
        "key": "user-123",
        "value": {"eventType": "user-action", "data": {"action": "click", "n": 1.5}},
        "headers": {"correlationId": "abc-123", "source": "web-app"},
        "timestamp": "2025-01-15T10:30:00.123Z",
    }
    response = await gateway.post(
        f"/api/v1/streams/{stream}/events", json=body, headers={"X-Request-ID": "req-produce-1"}
    )
    assert response.status_code == 201, response.text
    ack = response.json()
    assert ack["status"] == "published"
    assert ack["timestamp"] == "2025-01-15T10:30:00.123Z"
    assert ack["eventId"] == f"evt_{ack['partition']}_{ack['offset']}"
    assert response.headers["x-request-id"] == "req-produce-1"
    assert response.headers["location"] == f"/api/v1/streams/{stream}/events/{ack['eventId']}"

    (record,) = await read_all(kafka_bootstrap, stream, 1)
    assert record.key == b"user-123"
    assert orjson.loads(record.value) == body["value"]
    assert (record.partition, record.offset) == (ack["partition"], ack["offset"])
    assert record.partition == partition_for_key(b"user-123", 3)
    expected_ms = int(datetime(2025, 1, 15, 10, 30, 0, 123000, tzinfo=UTC).timestamp() * 1000)
    assert record.timestamp == expected_ms
    hdrs = headers_of(record)
    assert hdrs["correlationId"] == b"abc-123"
    assert hdrs["source"] == b"web-app"
    assert hdrs["x-request-id"] == b"req-produce-1"


async def test_partition_key_uses_murmur2_and_explicit_partition_wins(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=7)
    keys = [f"customer-{i}" for i in range(20)]
    placed = {}
    for key in keys:
        response = await gateway.post(
            f"/api/v1/streams/{stream}/events", json={"key": "ignored", "partitionKey": key, "value": key}
        )
        assert response.status_code == 201, response.text
        placed[key] = response.json()["partition"]
    assert placed == {key: partition_for_key(key.encode(), 7) for key in keys}
    assert len(set(placed.values())) > 1

    response = await gateway.post(
        f"/api/v1/streams/{stream}/events", json={"key": "customer-0", "partition": 6, "value": 1}
    )
    assert response.json()["partition"] == 6
    records = await read_all(kafka_bootstrap, stream, 21)
    by_value = {orjson.loads(r.value): r.partition for r in records if r.value != b"1"}
    assert by_value == placed


async def test_a_batch_places_every_key_where_kafkas_own_partitioner_would(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    # Keys of many lengths, most of them numerous enough to be hashed together; aiokafka's murmur2 (written
    # independently of the gateway's) is the oracle, and the records are read back from the topic.
    stream = await new_stream(partitions=7)
    keys = [f"{'k' * (i % 9)}{uuid.UUID(int=i)}" for i in range(300)] + [f"u{i}" for i in range(40)] + ["", "é"]
    events = [{"key": key, "value": {"i": i}} for i, key in enumerate(keys)]
    response = await gateway.post(f"/api/v1/streams/{stream}/events/batch", json={"events": events})
    assert response.status_code == 200, response.text
    expected = [(kafka_murmur2(key.encode()) & 0x7FFFFFFF) % 7 for key in keys]
    assert [result["partition"] for result in response.json()["results"]] == expected
    records = await read_all(kafka_bootstrap, stream, len(keys))
    assert sorted((orjson.loads(r.value)["i"], r.partition) for r in records) == list(enumerate(expected))


async def test_epoch_ms_timestamp_and_default_now(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1, configs={"retention.ms": "-1"})  # the first event is dated 2023
    response = await gateway.post(f"/api/v1/streams/{stream}/events", json={"value": 1, "timestamp": 1700000000000})
    assert response.json()["timestamp"] == "2023-11-14T22:13:20.000Z"
    before = int(datetime.now(tz=UTC).timestamp() * 1000)
    response = await gateway.post(f"/api/v1/streams/{stream}/events", json={"value": 2})
    after = int(datetime.now(tz=UTC).timestamp() * 1000)
    records = await read_all(kafka_bootstrap, stream, 2)
    assert records[0].timestamp == 1700000000000
    assert before <= records[1].timestamp <= after


async def test_batch_of_1000_events_lands_exactly_once_in_order(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=3)
    acked: dict[tuple[int, int], int] = {}
    for batch_no in range(10):
        events = [
            {
                "key": f"k{(batch_no * 100 + i) % 17}",
                "value": {"seq": batch_no * 100 + i},
                "headers": {"b": str(batch_no)},
            }
            for i in range(100)
        ]
        response = await gateway.post(f"/api/v1/streams/{stream}/events/batch", json={"events": events})
        assert response.status_code == 200, response.text
        document = response.json()
        assert document["totalEvents"] == 100
        assert document["successCount"] == 100
        assert document["failureCount"] == 0
        assert document["batchId"].startswith("batch_")
        for i, result in enumerate(document["results"]):
            seq = batch_no * 100 + i
            assert result["partition"] == partition_for_key(f"k{seq % 17}".encode(), 3)
            acked[(result["partition"], result["offset"])] = seq

    records = await read_all(kafka_bootstrap, stream, 1000)
    assert len(records) == 1000
    landed = {(r.partition, r.offset): orjson.loads(r.value)["seq"] for r in records}
    assert landed == acked
    # Per partition, offsets follow the order events were sent in.
    for partition in range(3):
        seqs = [seq for (p, _), seq in sorted(landed.items()) if p == partition]
        assert seqs == sorted(seqs)


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd", "none"])
async def test_batch_compression_reaches_the_wire(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str, codec: str
) -> None:
    stream = await new_stream(partitions=1)
    events = [{"value": {"text": "a" * 200, "i": i}} for i in range(200)]
    response = await gateway.post(
        f"/api/v1/streams/{stream}/events/batch", json={"events": events, "options": {"compression": codec}}
    )
    assert response.status_code == 200, response.text
    records = await read_all(kafka_bootstrap, stream, 200)
    assert [orjson.loads(r.value)["i"] for r in records] == list(range(200))
    # The broker keeps the producer's codec (compression.type=producer); the on-disk size shows it.
    described = (await gateway.get(f"/api/v1/streams/{stream}")).json()
    raw_bytes = sum(len(r.value) for r in records)
    if codec == "none":
        assert described["totalSize"] > raw_bytes
    else:
        assert described["totalSize"] < raw_bytes / 4


@pytest.mark.chaos
async def test_batch_timeout_reports_unknown_outcome_and_nothing_is_lost(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_broker: Broker
) -> None:
    if kafka_broker.pid is None:
        pytest.skip("needs the test session's own broker to pause it")
    stream = await new_stream(partitions=1)
    warm = await gateway.post(f"/api/v1/streams/{stream}/events", json={"value": -1})
    assert warm.status_code == 201
    events = [{"value": i} for i in range(5)]
    os.kill(kafka_broker.pid, signal.SIGSTOP)
    try:
        response = await gateway.post(
            f"/api/v1/streams/{stream}/events/batch", json={"events": events, "options": {"timeout": 500}}
        )
    finally:
        os.kill(kafka_broker.pid, signal.SIGCONT)
    assert response.status_code == 207, response.text
    document = response.json()
    assert (document["successCount"], document["failureCount"]) == (0, 5)
    for index, result in enumerate(document["results"]):
        assert result["index"] == index
        assert result["code"] == 1006
        assert result["error"] == "TIMEOUT"
        assert result["outcome"] == "unknown"
    # "Unknown" really means unknown: the idempotent producer keeps retrying, and each event lands once.
    records = await read_all(kafka_broker.bootstrap, stream, 6)
    assert [orjson.loads(r.value) for r in records] == [-1, *range(5)]

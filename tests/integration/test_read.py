"""Reading without a consumer group: one event by id, partition replay, and offsets for a time."""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tests.integration.conftest import read_all
from tests.integration.consuming import iso_ms, produce_json, produce_raw
from tests.integration.test_errors import assert_problem

pytestmark = pytest.mark.kafka

NewStream = Callable[..., Awaitable[str]]


async def test_event_by_id_round_trip(gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str) -> None:
    stream = await new_stream(partitions=3)
    await produce_json(kafka_bootstrap, stream, ["filler-0", "filler-1"], partition=2)
    sent = {
        "key": "order-7",
        "value": {"total": 12.5, "items": ["a", "b"]},
        "headers": {"source": "shop"},
        "partition": 2,
    }
    response = await gateway.post(f"/api/v1/streams/{stream}/events", json=sent)
    assert response.status_code == 201, response.text
    ack = response.json()
    assert (ack["partition"], ack["offset"]) == (2, 2)

    response = await gateway.get(f"/api/v1/streams/{stream}/events/{ack['eventId']}")
    assert response.status_code == 200, response.text
    event = response.json()
    records = await read_all(kafka_bootstrap, stream, 3)
    (record,) = [r for r in records if (r.partition, r.offset) == (2, 2)]
    assert event["eventId"] == ack["eventId"] == "evt_2_2"
    assert (event["partition"], event["offset"]) == (2, 2)
    assert event["timestamp"] == iso_ms(record.timestamp) == ack["timestamp"]
    assert (event["key"], event["value"]) == (sent["key"], sent["value"])
    assert event["headers"]["source"] == "shop"
    assert "valueEncoding" not in event

    # A record that is not JSON is returned by id too, with the encoding marker.
    ((partition, offset),) = await produce_raw(kafka_bootstrap, stream, [{"value": b"\x00\xffraw", "partition": 0}])
    event = (await gateway.get(f"/api/v1/streams/{stream}/events/evt_{partition}_{offset}")).json()
    assert (event["valueEncoding"], base64.b64decode(event["value"])) == ("base64", b"\x00\xffraw")


@pytest.mark.parametrize("event_id", ["evt_0_5", "evt_0_999999", "evt_9_0", "evt_x_1", "evt_0", "bogus", "evt_-1_0"])
async def test_unknown_event_id_is_404(gateway: httpx.AsyncClient, new_stream: NewStream, event_id: str) -> None:
    stream = await new_stream(partitions=1)
    response = await gateway.post(
        f"/api/v1/streams/{stream}/events/batch", json={"events": [{"value": i} for i in range(5)]}
    )
    assert response.status_code == 200, response.text
    assert (await gateway.get(f"/api/v1/streams/{stream}/events/evt_0_4")).status_code == 200
    response = await gateway.get(f"/api/v1/streams/{stream}/events/{event_id}")
    assert_problem(response, 404, 1016, "EVENT_NOT_FOUND")


async def test_event_by_id_in_an_unknown_stream_is_404_1001(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/v1/streams/no-such-stream/events/evt_0_0")
    assert_problem(response, 404, 1001, "STREAM_NOT_FOUND")


async def test_partition_read_is_stateless_and_joins_no_group(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=2)
    await produce_json(kafka_bootstrap, stream, ["p0-a", "p0-b"], partition=0)
    await produce_json(kafka_bootstrap, stream, [f"p1-{i}" for i in range(6)], partition=1)
    groups_before = {g[0] for g in await admin.list_consumer_groups()}
    url = f"/api/v1/streams/{stream}/partitions/1/events"

    async def read(**params: Any) -> dict[str, Any]:
        response = await gateway.get(url, params=params)
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        return document

    document = await read(offset="earliest", limit=4, timeout=5000)
    assert [(e["partition"], e["offset"], e["value"]) for e in document["events"]] == [
        (1, i, f"p1-{i}") for i in range(4)
    ]
    assert document["events"][0]["eventId"] == "evt_1_0"
    assert document["nextOffset"] == 4
    document = await read(offset=4, timeout=5000)
    assert [e["value"] for e in document["events"]] == ["p1-4", "p1-5"]
    assert document["nextOffset"] == 6
    document = await read(offset="latest", timeout=200)
    assert (document["events"], document["nextOffset"]) == ([], 6)
    # Stateless: the same read gives the same events again.
    document = await read(offset=0, limit=2, timeout=5000)
    assert [e["value"] for e in document["events"]] == ["p1-0", "p1-1"]

    assert_problem(await gateway.get(url, params={"offset": 99}), 400, 1002, "INVALID_OFFSET")
    response = await gateway.get(f"/api/v1/streams/{stream}/partitions/5/events", params={"offset": 0})
    assert_problem(response, 404, 1002, "INVALID_OFFSET")
    response = await gateway.get("/api/v1/streams/no-such-stream/partitions/0/events")
    assert_problem(response, 404, 1001, "STREAM_NOT_FOUND")

    groups_after = {g[0] for g in await admin.list_consumer_groups()}
    assert groups_after - groups_before == set()


async def test_offsets_for_times(gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str) -> None:
    stream = await new_stream(partitions=3, configs={"retention.ms": "-1"})
    base_ms = (int(time.time()) - 600) * 1000
    await produce_raw(
        kafka_bootstrap,
        stream,
        [
            {"value": b"0", "partition": 0, "timestamp_ms": base_ms},
            {"value": b"1", "partition": 0, "timestamp_ms": base_ms + 1000},
            {"value": b"2", "partition": 0, "timestamp_ms": base_ms + 2000},
            {"value": b"3", "partition": 1, "timestamp_ms": base_ms + 5000},
        ],
    )  # partition 2 stays empty

    async def offsets_at(timestamp: int | str) -> dict[str, Any]:
        response = await gateway.get(f"/api/v1/streams/{stream}/offsets", params={"timestamp": timestamp})
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        return document

    document = await offsets_at(base_ms + 1000)
    assert (document["stream"], document["timestamp"]) == (stream, iso_ms(base_ms + 1000))
    assert document["offsets"] == [
        {"partition": 0, "offset": 1, "timestamp": iso_ms(base_ms + 1000)},
        {"partition": 1, "offset": 0, "timestamp": iso_ms(base_ms + 5000)},
        {"partition": 2, "offset": None, "timestamp": None},
    ]
    # The same question as ISO 8601, between two records.
    iso_query = datetime.fromtimestamp((base_ms + 1500) / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
    document = await offsets_at(iso_query)
    assert document["timestamp"] == iso_ms(base_ms + 1500)
    answered = {o["partition"]: o["offset"] for o in document["offsets"]}
    assert answered == {0: 2, 1: 0, 2: None}

    # The oracle: a plain consumer's offsets_for_times gives the same answer.
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(stream, p) for p in range(3)]
        found = await consumer.offsets_for_times(dict.fromkeys(tps, base_ms + 1500))
    finally:
        await consumer.stop()
    assert {tp.partition: None if hit is None else hit.offset for tp, hit in found.items()} == answered

    document = await offsets_at(base_ms + 6000)
    assert [o["offset"] for o in document["offsets"]] == [None, None, None]
    response = await gateway.get("/api/v1/streams/no-such-stream/offsets", params={"timestamp": base_ms})
    assert_problem(response, 404, 1001, "STREAM_NOT_FOUND")

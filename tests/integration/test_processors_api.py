"""Processor lifecycle and metrics through the API, checked against what Kafka holds (spec and metrics topics).

No workers run here: metric snapshots are written to the metrics topic by the test itself, as a worker would.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from gateway.timefmt import now_ms
from schemas.processor_api import METRICS_TOPIC, SPEC_TOPIC, STALE_AFTER_MS
from tests.integration.conftest import GatewayFactory
from tests.integration.test_errors import assert_problem
from tests.unit.processors.specs import SEED_EXAMPLE

pytestmark = pytest.mark.kafka

NewStream = Callable[..., Awaitable[str]]
API = "/api/v1/processors"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def spec(source: str, *operations: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": unique("proc"),
        "source": source,
        "operations": list(operations) or [{"type": "filter", "predicate": "value.amount > 1000"}],
        "sink": unique("sink"),
    }
    document.update(overrides)
    return document


async def create(gateway: httpx.AsyncClient, document: dict[str, Any]) -> dict[str, Any]:
    response = await gateway.post(API, json=document)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["location"] == f"{API}/{body['processorId']}"
    return body


async def spec_records(bootstrap: str, processor_id: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of one processor in the spec topic, read to its end with a plain consumer."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(SPEC_TOPIC, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        records: list[ConsumerRecord[bytes, bytes]] = []
        while await consumer.position(tp) < end:
            for batch in (await consumer.getmany(tp, timeout_ms=1000)).values():
                records.extend(r for r in batch if r.key == processor_id.encode())
        return records
    finally:
        await consumer.stop()


@pytest.fixture
async def metrics_producer(kafka_bootstrap: str) -> AsyncIterator[Callable[..., Awaitable[None]]]:
    """Publish snapshots to the metrics topic the way a worker does, with a plain producer."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()

    async def publish(processor_id: str, worker: str, **fields: Any) -> None:
        snapshot: dict[str, Any] = {
            "processorId": processor_id,
            "version": 1,
            "worker": worker,
            "status": "running",
            "reason": None,
            "at": now_ms(),
            "intervalMs": 2000,
            "counters": {},
            "throughput": 0.0,
            "avgLatencyMs": 0.0,
            "lag": 0,
            "lastEventAt": None,
            "windows": [],
        }
        snapshot.update(fields)
        await producer.send_and_wait(METRICS_TOPIC, orjson.dumps(snapshot), key=processor_id.encode())

    yield publish
    await producer.stop()


async def test_seed_example_is_accepted_as_written(
    gateway: httpx.AsyncClient, admin: AIOKafkaAdminClient, kafka_bootstrap: str
) -> None:
    # The response reports (does not raise) "already exists" when another test created the topic first.
    await admin.create_topics([NewTopic("transactions", 4, 1)])
    listing = (await gateway.get(API)).json()["processors"]
    for stale in [p for p in listing if p["name"] == "fraud-detection"]:
        assert (await gateway.delete(f"{API}/{stale['processorId']}")).status_code == 200

    response = await gateway.post(API, content=SEED_EXAMPLE, headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text
    body = response.json()
    try:
        assert re.fullmatch(r"proc_[0-9a-f]{12}", body["processorId"])
        assert body["status"] == "pending"
        assert body["version"] == 1
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["createdAt"])
        assert body["metrics"] == {"eventsProcessed": 0, "throughput": 0, "lag": 0}
        assert body["topics"] == {
            "source": "transactions",
            "sink": "fraud-alerts",
            "routes": [],
            "dlq": "fraud-detection.dlq",
            "repartition": "fraud-detection.repartition",
        }
        described = await admin.describe_topics(["fraud-alerts", "fraud-detection.dlq", "fraud-detection.repartition"])
        assert [(t["error_code"], len(t["partitions"])) for t in described] == [(0, 4)] * 3

        # Second door: the spec record as a worker reads it from the spec topic.
        mine = await spec_records(kafka_bootstrap, body["processorId"])
        assert len(mine) == 1
        stored = orjson.loads(mine[0].value)
        assert stored["processorId"] == body["processorId"]
        assert (stored["version"], stored["name"], stored["desired"]) == (1, "fraud-detection", "running")
        assert stored["createdAt"] == stored["updatedAt"] == body["createdAt"]
        assert stored["spec"]["operations"][1] == {
            "type": "map",
            "function": "enrichWithUserData",
            "expression": None,
            "args": {},
            "onError": "dlq",
        }
        assert stored["spec"]["config"] == {
            "parallelism": 4,
            "checkpointInterval": 60000,
            "guarantee": "at_least_once",
            "startFrom": "earliest",
        }
    finally:
        await gateway.delete(f"{API}/{body['processorId']}")


async def test_cel_syntax_error_names_the_operation_and_position(
    gateway: httpx.AsyncClient, new_stream: NewStream
) -> None:
    source = await new_stream(partitions=1)
    document = spec(source, {"type": "sample", "rate": 0.5}, {"type": "filter", "predicate": "value.amount >"})
    body = assert_problem(await gateway.post(API, json=document), 422, 1007, "VALIDATION_ERROR")
    (error,) = body["errors"]
    assert error["field"] == "operations[1].predicate"
    assert "syntax error at column" in error["message"]


async def test_unknown_map_function_lists_the_available_ones(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    source = await new_stream(partitions=1)
    document = spec(source, {"type": "map", "function": "enrichWithAlienData"})
    body = assert_problem(await gateway.post(API, json=document), 422, 1007, "VALIDATION_ERROR")
    (error,) = body["errors"]
    assert error["field"] == "operations[0].function"
    for name in ("enrichWithUserData", "maskFields", "dropFields", "renameFields", "setTimestamp"):
        assert name in error["message"]


async def test_every_compile_problem_is_listed(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    source = await new_stream(partitions=2)
    document = spec(
        source,
        {"type": "filter", "predicate": "value.x ==="},
        {"type": "map", "function": "maskFields", "args": {"colour": "red"}},
        config={"parallelism": 3},
    )
    body = assert_problem(await gateway.post(API, json=document), 422, 1007, "VALIDATION_ERROR")
    fields = [e["field"] for e in body["errors"]]
    assert fields == ["operations[0].predicate", "operations[1].args", "operations[1].args", "config.parallelism"]


async def test_parallelism_above_partitions_is_422(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    source = await new_stream(partitions=2)
    body = assert_problem(
        await gateway.post(API, json=spec(source, config={"parallelism": 4})), 422, 1007, "VALIDATION_ERROR"
    )
    (error,) = body["errors"]
    assert error["field"] == "config.parallelism"
    assert "2 partitions" in error["message"]


async def test_a_missing_source_is_404_and_schema_violations_are_422(gateway: httpx.AsyncClient) -> None:
    missing = unique("nowhere")
    body = assert_problem(await gateway.post(API, json=spec(missing)), 404, 1001, "STREAM_NOT_FOUND")
    assert body["detail"] == f"the source stream {missing!r} does not exist"
    assert missing in (await gateway.post(API, json={"source": missing, "operations": [{"type": "x"}]})).text
    source = unique("here")
    assert (await gateway.post("/api/v1/streams", json={"name": source, "partitions": 1})).status_code == 201
    body = assert_problem(
        await gateway.post(API, json={"source": source, "operations": [{"type": "teleport"}], "sink": "y"}),
        422,
        1007,
        "VALIDATION_ERROR",
    )
    assert {e["field"] for e in body["errors"]} == {"name", "operations.0"}
    internal = spec("_kafkagate.processors")
    body = assert_problem(await gateway.post(API, json=internal), 422, 1007, "VALIDATION_ERROR")
    assert body["errors"][0]["field"] == "source"


async def test_duplicate_name_is_409(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    source = await new_stream(partitions=1)
    document = spec(source)
    first = await create(gateway, document)
    body = assert_problem(await gateway.post(API, json=document), 409, 1017, "CONFLICT")
    assert first["processorId"] in body["detail"]
    await gateway.delete(f"{API}/{first['processorId']}")
    again = await create(gateway, document)
    assert again["processorId"] != first["processorId"], "a deleted processor's name is free again"
    await gateway.delete(f"{API}/{again['processorId']}")


async def test_lifecycle(gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str) -> None:
    source = await new_stream(partitions=2)
    document = spec(
        source,
        {"type": "route", "cases": [{"predicate": "value.amount > 10", "sink": unique("big")}]},
        sink=unique("rest"),
    )
    created = await create(gateway, document)
    pid = created["processorId"]
    route_sink = document["operations"][0]["cases"][0]["sink"]
    assert created["topics"] == {
        "source": source,
        "sink": None,
        "routes": [route_sink, document["sink"]],
        "dlq": f"{document['name']}.dlq",
        "repartition": None,
    }

    got = (await gateway.get(f"{API}/{pid}")).json()
    assert (got["name"], got["version"], got["status"], got["desired"]) == (document["name"], 1, "pending", "running")
    assert got["spec"]["source"] == source
    assert got["topics"] == created["topics"]
    listed = {p["processorId"]: p for p in (await gateway.get(API)).json()["processors"]}
    assert set(listed[pid]) >= {"processorId", "name", "version", "status", "createdAt", "updatedAt"}

    changed = {**document, "operations": [{"type": "filter", "predicate": "value.amount > 5"}]}
    response = await gateway.put(f"{API}/{pid}", json=changed)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["version"] == 2
    assert updated["createdAt"] == created["createdAt"]
    assert updated["topics"]["sink"] == document["sink"]
    assert (await gateway.put(f"{API}/{pid}", json=changed)).json()["version"] == 2, "same spec, same version"
    renamed = {**changed, "name": unique("other")}
    body = assert_problem(await gateway.put(f"{API}/{pid}", json=renamed), 422, 1007, "VALIDATION_ERROR")
    assert body["errors"][0]["field"] == "name"

    paused = (await gateway.post(f"{API}/{pid}/pause")).json()
    assert (paused["status"], paused["desired"], paused["version"]) == ("paused", "paused", 2)
    assert (await gateway.get(f"{API}/{pid}")).json()["status"] == "paused"
    resumed = (await gateway.post(f"{API}/{pid}/resume")).json()
    assert (resumed["status"], resumed["desired"], resumed["version"]) == ("pending", "running", 2)

    response = await gateway.delete(f"{API}/{pid}")
    assert response.status_code == 200
    deleted = response.json()
    assert (deleted["status"], deleted["processorId"]) == ("deleted", pid)
    assert deleted["keptTopics"] == [f"{document['name']}.dlq"]
    assert deleted["deletedAt"].endswith("Z")
    for method, path in [
        ("GET", f"{API}/{pid}"),
        ("PUT", f"{API}/{pid}"),
        ("DELETE", f"{API}/{pid}"),
        ("POST", f"{API}/{pid}/pause"),
        ("POST", f"{API}/{pid}/resume"),
        ("GET", f"{API}/{pid}/metrics"),
    ]:
        response = await gateway.request(method, path, json=changed if method == "PUT" else None)
        assert_problem(response, 404, 1019, "PROCESSOR_NOT_FOUND")
    assert pid not in {p["processorId"] for p in (await gateway.get(API)).json()["processors"]}

    # Second door: the spec topic holds versions 1 and 2, the pause, the resume, then a tombstone.
    values = [None if r.value is None else orjson.loads(r.value) for r in await spec_records(kafka_bootstrap, pid)]
    assert [(v["version"], v["desired"]) for v in values[:-1] if v] == [
        (1, "running"),
        (2, "running"),
        (2, "paused"),
        (2, "running"),
    ]
    assert values[-1] is None


async def test_a_write_on_one_gateway_is_read_by_another(make_gateway: GatewayFactory, new_stream: NewStream) -> None:
    writer, reader = await make_gateway(), await make_gateway()
    await reader.get(API)  # the reader's registry is running before the write
    source = await new_stream(partitions=1)
    created = await create(writer, spec(source))
    got = await reader.get(f"{API}/{created['processorId']}")
    assert got.status_code == 200, got.text
    assert (await reader.delete(f"{API}/{created['processorId']}")).status_code == 200
    assert (await writer.get(f"{API}/{created['processorId']}")).status_code == 404


async def test_metrics_are_aggregated_over_the_workers_of_the_current_version(
    gateway: httpx.AsyncClient, new_stream: NewStream, metrics_producer: Callable[..., Awaitable[None]]
) -> None:
    source = await new_stream(partitions=2)
    document = spec(
        source,
        {"type": "window", "windowType": "tumbling", "duration": 60000},
        {"type": "aggregate", "aggregation": "count", "groupBy": "key"},
        config={"parallelism": 2},
    )
    pid = (await create(gateway, document))["processorId"]
    metrics = (await gateway.get(f"{API}/{pid}/metrics")).json()
    assert (metrics["status"], metrics["metrics"]["eventsProcessed"], metrics["workers"]) == ("pending", 0, [])

    window = {"windowStart": 1_736_935_200_000, "windowEnd": 1_736_935_260_000}
    await metrics_producer(
        pid,
        "host-a:11:0",
        counters={"eventsIn": 100, "eventsProcessed": 100, "eventsEmitted": 40, "errors": 2, "dlqEvents": 2},
        throughput=10.0,
        avgLatencyMs=30.0,
        lag=5,
        lastEventAt=1_736_935_230_000,
        windows=[{**window, "eventsCount": 6}],
    )
    await metrics_producer(
        pid,
        "host-b:12:1",
        counters={"eventsIn": 300, "eventsProcessed": 298, "eventsFiltered": 1, "lateEvents": 3, "errors": 2},
        throughput=30.0,
        avgLatencyMs=10.0,
        lag=7,
        lastEventAt=1_736_935_240_000,
        windows=[{**window, "eventsCount": 4}],
    )
    await metrics_producer(pid, "host-c:13:0", version=2, counters={"eventsProcessed": 1000})  # not this version
    await metrics_producer(pid, "host-d:14:0", status="exploded", counters={"eventsProcessed": 1000})  # malformed
    response = await gateway.get(f"{API}/{pid}/metrics")
    assert response.status_code == 200, response.text
    metrics = response.json()
    assert (metrics["processorId"], metrics["status"]) == (pid, "running")
    assert metrics["metrics"] == {
        "eventsIn": 400,
        "eventsProcessed": 398,
        "throughput": 40.0,
        "avgLatency": pytest.approx((20 * 30 + 60 * 10) / 80),
        "lag": 12,
        "errorRate": 0.01,
        "errors": 4,
        "eventsEmitted": 40,
        "eventsFiltered": 1,
        "lateEvents": 3,
        "dlqEvents": 2,
        "lastEventAt": "2025-01-15T10:00:40.000Z",
    }
    assert metrics["windows"] == [
        {"windowStart": "2025-01-15T10:00:00.000Z", "windowEnd": "2025-01-15T10:01:00.000Z", "eventsCount": 10}
    ]
    assert [(w["worker"], w["status"]) for w in metrics["workers"]] == [
        ("host-a:11:0", "running"),
        ("host-b:12:1", "running"),
    ]
    got = (await gateway.get(f"{API}/{pid}")).json()
    assert (got["status"], got["metrics"]) == ("running", {"eventsProcessed": 398, "throughput": 40.0, "lag": 12})

    await metrics_producer(pid, "host-b:12:1", status="failed", reason="operations[0]: boom", lag=7)
    metrics = (await gateway.get(f"{API}/{pid}/metrics")).json()
    assert (metrics["status"], metrics["reason"]) == ("failed", "operations[0]: boom")
    assert {w["worker"]: w["status"] for w in metrics["workers"]}["host-b:12:1"] == "failed"
    got = (await gateway.get(f"{API}/{pid}")).json()
    assert (got["status"], got["reason"]) == ("failed", "operations[0]: boom")
    assert (await gateway.post(f"{API}/{pid}/pause")).json()["status"] == "paused"
    assert (await gateway.get(f"{API}/{pid}/metrics")).json()["status"] == "paused"
    await gateway.delete(f"{API}/{pid}")


async def test_workers_that_stop_reporting_make_the_processor_stale(
    gateway: httpx.AsyncClient, new_stream: NewStream, metrics_producer: Callable[..., Awaitable[None]]
) -> None:
    source = await new_stream(partitions=1)
    document = spec(source)
    pid = (await create(gateway, document))["processorId"]
    long_ago = now_ms() - STALE_AFTER_MS - 5000
    await metrics_producer(pid, "host-a:11:0", at=long_ago, counters={"eventsProcessed": 7}, lag=3)
    metrics = (await gateway.get(f"{API}/{pid}/metrics")).json()
    assert (metrics["status"], metrics["metrics"]["eventsProcessed"], metrics["metrics"]["lag"]) == ("stale", 7, 3)
    assert (await gateway.get(f"{API}/{pid}")).json()["status"] == "stale"

    # A new version starts from nothing: the old version's snapshots no longer describe it.
    changed = {**document, "operations": [{"type": "filter", "predicate": "value.amount > 1"}]}
    assert (await gateway.put(f"{API}/{pid}", json=changed)).json()["version"] == 2
    metrics = (await gateway.get(f"{API}/{pid}/metrics")).json()
    assert (metrics["status"], metrics["version"], metrics["metrics"]["eventsProcessed"]) == ("pending", 2, 0)
    await metrics_producer(pid, "host-a:12:0", version=2, status="starting")
    assert (await gateway.get(f"{API}/{pid}/metrics")).json()["status"] == "pending"
    await metrics_producer(pid, "host-a:12:0", version=2, counters={"eventsProcessed": 1})
    metrics = (await gateway.get(f"{API}/{pid}/metrics")).json()
    assert (metrics["status"], metrics["metrics"]["eventsProcessed"]) == ("running", 1)
    await gateway.delete(f"{API}/{pid}")


async def test_reads_wait_for_the_registry_after_startup(make_gateway: GatewayFactory, new_stream: NewStream) -> None:
    first = await make_gateway()
    source = await new_stream(partitions=1)
    pids = [(await create(first, spec(source)))["processorId"] for _ in range(3)]
    fresh = await make_gateway()  # its registry starts with the first request and must catch up before answering
    answers = await asyncio.gather(*(fresh.get(f"{API}/{pid}") for pid in pids))
    assert [a.status_code for a in answers] == [200, 200, 200]
    for pid in pids:
        await fresh.delete(f"{API}/{pid}")


async def test_the_status_follows_worker_reports_without_a_metrics_request(
    make_gateway: GatewayFactory, new_stream: NewStream, metrics_producer: Callable[..., Awaitable[None]]
) -> None:
    writer = await make_gateway()
    pid = (await create(writer, spec(await new_stream(partitions=1))))["processorId"]
    await metrics_producer(pid, "host-a:21:0", status="failed", reason="InvalidTimestampError")
    reader = await make_gateway()  # a fresh gateway that never served a metrics request
    for _ in range(50):
        document = (await reader.get(f"{API}/{pid}")).json()
        if document["status"] == "failed":
            break
        await asyncio.sleep(0.1)
    assert (document["status"], document["reason"]) == ("failed", "InvalidTimestampError")
    await writer.delete(f"{API}/{pid}")

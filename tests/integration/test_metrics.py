"""`GET /metrics` against a real broker, and the JSON log lines of a `kafkagate serve` process.

The metrics are checked against what the test did and what a plain Kafka reader sees, never against another
metric; the logs against the request ids the test sent.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from processors.metrics_exporter import ProcessorExporter
from processors.supervisor import Supervisor
from schemas.processor_api import METRICS_TOPIC, Counters, MetricsSnapshot
from tests.integration.conftest import GatewayFactory, read_all
from tests.integration.consuming import NewStream, new_group, poll
from tests.integration.principals import as_token, new_key
from tests.integration.serving import served_gateway, tail, wait_ready

pytestmark = pytest.mark.kafka
EVENTS = "/api/v1/streams/{stream}/events"


async def scrape(gateway: httpx.AsyncClient) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample of the gateway's /metrics, by sample name, then by sorted label pairs."""
    response = await gateway.get("/metrics", headers={"authorization": ""})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def test_produced_and_consumed_events_are_counted_per_stream(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=2)
    single = 3
    for i in range(single):
        response = await gateway.post(f"/api/v1/streams/{stream}/events", json={"key": f"k{i}", "value": {"i": i}})
        assert response.status_code == 201, response.text
    batch = {"events": [{"key": f"b{i}", "value": {"i": i}} for i in range(4)]}
    response = await gateway.post(f"/api/v1/streams/{stream}/events/batch", json=batch)
    assert response.status_code in {200, 201, 207}, response.text
    produced = single + 4
    assert len(await read_all(kafka_bootstrap, stream, produced)) == produced  # the second door: Kafka has them

    group = new_group()
    seen: list[dict[str, Any]] = []
    for _ in range(20):
        document = await poll(gateway, stream, group, offset="earliest", timeout=2000)
        seen.extend(document["events"])
        if len(seen) >= produced:
            break
    assert len(seen) == produced

    metrics = await scrape(gateway)
    label = (("stream", stream),)
    assert metrics["kafkagate_produced_events_total"][label] == produced
    assert metrics["kafkagate_consumed_events_total"][label] == produced
    assert metrics["kafkagate_produced_bytes_total"][label] > 0
    assert metrics["kafkagate_consumed_bytes_total"][label] > 0
    requests = metrics["kafkagate_http_requests_total"]
    assert requests[(("method", "POST"), ("route", EVENTS), ("status", "201"))] >= single
    assert not any(dict(labels)["route"].endswith(f"/{stream}/events") for labels in requests)  # never raw paths
    durations = metrics["kafkagate_http_request_duration_seconds_count"]
    assert durations[(("method", "POST"), ("route", EVENTS))] >= single
    assert metrics["kafkagate_consumer_members"][()] >= 1


async def test_a_refused_request_shows_in_the_rate_limit_counter(
    make_gateway: GatewayFactory, new_stream: NewStream
) -> None:
    gateway = await make_gateway(rate_limit_requests_per_s=2, rate_limit_bytes_per_s=0)
    stream = await new_stream(partitions=1)
    responses = await asyncio.gather(*(gateway.get(f"/api/v1/streams/{stream}") for _ in range(8)))
    refused = sum(r.status_code == 429 for r in responses)
    assert refused > 0
    metrics = await scrape(gateway)  # public: the scrape spends no quota and is never refused
    assert metrics["kafkagate_rate_limited_requests_total"][()] == refused
    route = "/api/v1/streams/{stream}"
    assert metrics["kafkagate_http_requests_total"][(("method", "GET"), ("route", route), ("status", "429"))] == refused


async def test_an_idempotent_replay_shows_in_the_replay_counter(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    headers = {"idempotency-key": f"k-{uuid.uuid4().hex}"}
    body = {"key": "a", "value": {"n": 1}}
    first = await gateway.post(f"/api/v1/streams/{stream}/events", json=body, headers=headers)
    again = await gateway.post(f"/api/v1/streams/{stream}/events", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert len(await read_all(kafka_bootstrap, stream, 1)) == 1
    metrics = await scrape(gateway)
    assert metrics["kafkagate_idempotent_replays_total"][()] == 1
    assert metrics["kafkagate_produced_events_total"][(("stream", stream),)] == 1  # a replay produces nothing


async def test_the_supervisor_exports_the_snapshots_workers_publish(
    gateway: httpx.AsyncClient, kafka_bootstrap: str, tmp_path: Path
) -> None:
    assert (await gateway.get("/api/v1/processors")).status_code == 200  # the processor topics exist from here
    processor_id = f"p-{uuid.uuid4().hex[:10]}"
    # What a worker publishes (processors.runtime), sent here without one: the exporter reads only the topic.
    published = MetricsSnapshot(
        processor_id=processor_id,
        version=1,
        worker="somehost:4242:0",
        status="running",
        at=1_700_000_000_000,
        counters=Counters(events_in=12, events_processed=11, errors=1),
        lag=4,
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(METRICS_TOPIC, published.to_json(), key=processor_id.encode())
    finally:
        await producer.stop()

    exporter = ProcessorExporter()
    registry = CollectorRegistry()
    registry.register(exporter)
    supervisor = Supervisor(kafka_bootstrap, tmp_path / "processors", exporter)
    task = asyncio.create_task(supervisor.run())
    try:
        found: dict[str, float] = {}
        for _ in range(60):
            text = generate_latest(registry).decode()
            found = {
                sample.name: sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
                if sample.labels.get("processor") == processor_id
            }
            if found:
                break
            await asyncio.sleep(0.5)
    finally:
        supervisor.request_stop()
        await asyncio.wait_for(task, 60)
    assert found["kafkagate_processor_events_processed_total"] == 11
    assert found["kafkagate_processor_errors_total"] == 1
    assert found["kafkagate_processor_lag_records"] == 4


async def test_a_json_logging_gateway_names_the_request_and_key_on_its_lines(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    log = tmp_path / "gateway.log"
    root = "r" * 40
    env = {"KAFKAGATE_AUTH": "required", "KAFKAGATE_ADMIN_TOKEN": root, "KAFKAGATE_LOG_FORMAT": "json"}
    with served_gateway(kafka_bootstrap, log, env) as (process, base_url):
        await wait_ready(process, base_url, log)
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as admin:
            admin.headers["authorization"] = f"Bearer {root}"
            key = await new_key(admin, scopes=["admin"])
            client = as_token(admin, key["token"], **{"x-request-id": "req-metrics-test-1"})
            async with client:
                assert (await client.get("/api/v1/streams")).status_code == 200
            assert (await admin.get("/metrics")).status_code == 200

        lines = [orjson.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        assert lines, tail(log)
        non_json = [line for line in log.read_text().splitlines() if line and not line.startswith("{")]
        assert not [line for line in non_json if "INFO" in line], non_json  # every log line is JSON
        access = [line for line in lines if line.get("request_id") == "req-metrics-test-1"]
        assert access, tail(log)
        [line] = [a for a in access if a["logger"] == "kafkagate.access"]
        assert line["key_id"] == key["keyId"]
        assert (line["method"], line["route"], line["status"]) == ("GET", "/api/v1/streams", 200)
        assert line["bytes"] > 0
        assert line["duration_ms"] >= 0

"""Every error path answers with a problem document: status, seed code, symbolic name and request id."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from tests.integration.conftest import GatewayFactory, read_all

pytestmark = pytest.mark.kafka

NewStream = Callable[..., Awaitable[str]]
DAY_MS = 86_400_000


def assert_problem(response: httpx.Response, status: int, code: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["error"] == error
    assert body["type"].startswith("https://kafkagate.dev/problems/")
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["instance"] == response.request.url.path
    return body


async def test_unknown_stream_is_404_1001(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/v1/streams/no-such-stream/events", json={"value": 1})
    assert_problem(response, 404, 1001, "STREAM_NOT_FOUND")
    response = await gateway.post("/api/v1/streams/no-such-stream/events/batch", json={"events": [{"value": 1}]})
    assert_problem(response, 404, 1001, "STREAM_NOT_FOUND")
    assert_problem(await gateway.get("/api/v1/streams/no-such-stream"), 404, 1001, "STREAM_NOT_FOUND")
    assert_problem(await gateway.delete("/api/v1/streams/no-such-stream"), 404, 1001, "STREAM_NOT_FOUND")


async def test_malformed_json_is_400_1004(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    stream = await new_stream(partitions=1)
    for path in (f"/api/v1/streams/{stream}/events", f"/api/v1/streams/{stream}/events/batch", "/api/v1/streams"):
        response = await gateway.post(path, content=b'{"value": ', headers={"content-type": "application/json"})
        assert_problem(response, 400, 1004, "SERIALIZATION_ERROR")


async def test_schema_violations_are_422_listing_each_field(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    stream = await new_stream(partitions=2)
    response = await gateway.post(
        f"/api/v1/streams/{stream}/events",
        json={"key": 5, "headers": {"a": 1}, "timestamp": "yesterday", "extra": True},
    )
    body = assert_problem(response, 422, 1007, "VALIDATION_ERROR")
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"value", "key", "headers.a", "timestamp", "extra"}

    response = await gateway.post(f"/api/v1/streams/{stream}/events", json={"value": 1, "partition": 2})
    body = assert_problem(response, 422, 1007, "VALIDATION_ERROR")
    assert body["errors"][0]["field"] == "body.partition"

    response = await gateway.post(f"/api/v1/streams/{stream}/events/batch", json={"events": []})
    assert_problem(response, 422, 1007, "VALIDATION_ERROR")
    response = await gateway.post(
        f"/api/v1/streams/{stream}/events/batch",
        json={"events": [{"value": 1}, {"value": 2, "timestamp": -5}], "options": {"compression": "brotli"}},
    )
    body = assert_problem(response, 422, 1007, "VALIDATION_ERROR")
    assert {e["field"] for e in body["errors"]} == {"events.1.timestamp", "options.compression"}

    response = await gateway.post("/api/v1/streams", json={"name": "x", "partitions": 0})
    assert_problem(response, 422, 1007, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [("__consumer_offsets", 400, 1009), ("_internal", 400, 1009), ("bad name!", 400, 1009), ("..", 400, 1009)],
)
async def test_reserved_and_illegal_names_refused(
    gateway: httpx.AsyncClient, name: str, status: int, code: int
) -> None:
    response = await gateway.post("/api/v1/streams", json={"name": name})
    assert_problem(response, status, code, "INVALID_STREAM_NAME")


async def test_producing_to_internal_topic_refused(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/v1/streams/__consumer_offsets/events", json={"value": 1})
    assert_problem(response, 400, 1009, "INVALID_STREAM_NAME")


async def test_body_limit_counts_received_bytes(make_gateway: GatewayFactory, new_stream: NewStream) -> None:
    gateway = await make_gateway(max_body_bytes=4096)
    stream = await new_stream(partitions=1)
    big = b'{"value": "' + b"x" * 5000 + b'"}'
    response = await gateway.post(
        f"/api/v1/streams/{stream}/events", content=big, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, 1010, "PAYLOAD_TOO_LARGE")

    async def chunks() -> Any:
        # No Content-Length: a chunked upload is counted as it arrives.
        for _ in range(10):
            yield b"x" * 1000

    response = await gateway.post(
        f"/api/v1/streams/{stream}/events", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, 1010, "PAYLOAD_TOO_LARGE")


async def test_stream_max_message_bytes_bounds_events(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    stream = await new_stream(partitions=1, configs={"max.message.bytes": "2000"})
    response = await gateway.post(f"/api/v1/streams/{stream}/events", json={"value": "y" * 3000})
    assert_problem(response, 413, 1010, "PAYLOAD_TOO_LARGE")
    response = await gateway.post(
        f"/api/v1/streams/{stream}/events/batch", json={"events": [{"value": "small"}, {"value": "y" * 3000}]}
    )
    assert response.status_code == 207
    ok, too_big = response.json()["results"]
    assert ok["status"] == "published"
    assert (too_big["status"], too_big["code"], too_big["index"]) == ("failed", 1010, 1)


async def test_timestamps_the_stream_refuses_are_400_1023(
    gateway: httpx.AsyncClient, new_stream: NewStream, admin: AIOKafkaAdminClient, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1, configs={"message.timestamp.before.max.ms": "3600000"})
    now = int(time.time() * 1000)
    url = f"/api/v1/streams/{stream}/events"

    # Kafka 4 refuses timestamps more than an hour ahead by default; this stream also refuses those an hour old.
    body = assert_problem(
        await gateway.post(url, json={"value": 1, "timestamp": now + 2 * DAY_MS}), 400, 1023, "INVALID_TIMESTAMP"
    )
    assert "message.timestamp.after.max.ms" in body["detail"]
    body = assert_problem(
        await gateway.post(url, json={"value": 1, "timestamp": now - 7_200_000}), 400, 1023, "INVALID_TIMESTAMP"
    )
    assert "message.timestamp.before.max.ms" in body["detail"]

    events = [
        {"value": "now"},
        {"value": "old", "timestamp": now - 7_200_000},
        {"value": "recent", "timestamp": now - 60_000},
    ]
    response = await gateway.post(f"{url}/batch", json={"events": events})
    assert response.status_code == 207
    statuses = [(r["status"], r.get("code")) for r in response.json()["results"]]
    assert statuses == [("published", None), ("failed", 1023), ("published", None)]
    assert [orjson.loads(r.value) for r in await read_all(kafka_bootstrap, stream, 2)] == ["now", "recent"]

    # When Kafka refuses what the gateway's cached view still allows, the answer is the same error.
    tightened = {"message.timestamp.before.max.ms": "3600000", "message.timestamp.after.max.ms": "1000"}
    await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, stream, configs=tightened)])
    for _ in range(40):
        response = await gateway.post(url, json={"value": 2, "timestamp": int(time.time() * 1000) + 600_000})
        if response.status_code != 201:
            break
        await asyncio.sleep(0.25)
    body = assert_problem(response, 400, 1023, "INVALID_TIMESTAMP")
    assert "Kafka refused" in body["detail"]


async def test_wrong_content_type_is_415(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    stream = await new_stream(partitions=1)
    response = await gateway.post(
        f"/api/v1/streams/{stream}/events", content=b"hello", headers={"content-type": "text/plain"}
    )
    assert_problem(response, 415, 1021, "UNSUPPORTED_MEDIA_TYPE")


async def test_unknown_route_and_method(gateway: httpx.AsyncClient) -> None:
    assert_problem(await gateway.get("/api/v1/nothing-here"), 404, 1012, "NOT_FOUND")
    assert_problem(await gateway.put("/api/v1/streams"), 405, 1013, "METHOD_NOT_ALLOWED")


async def test_request_id_is_echoed_or_generated(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/healthz", headers={"x-request-id": "abc.DEF-123_x"})
    assert response.headers["x-request-id"] == "abc.DEF-123_x"
    response = await gateway.get("/healthz", headers={"x-request-id": "bad id with spaces"})
    assert response.headers["x-request-id"].startswith("req_")
    response = await gateway.get("/healthz", headers={"x-request-id": "a" * 129})
    assert response.headers["x-request-id"].startswith("req_")


async def test_broker_down_is_503_then_ready_when_kafka_comes(
    make_gateway: GatewayFactory, kafka_bootstrap: str
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    gateway = await make_gateway(wait=False, bootstrap_servers=f"127.0.0.1:{dead_port}", connect_retry_backoff_ms=100)
    assert (await gateway.get("/healthz")).status_code == 200
    response = await gateway.get("/readyz")
    body = assert_problem(response, 503, 1011, "BROKER_UNAVAILABLE")
    assert body["retriable"] is True
    assert int(response.headers["retry-after"]) > 0
    response = await gateway.post("/api/v1/streams/whatever/events", json={"value": 1})
    assert_problem(response, 503, 1011, "BROKER_UNAVAILABLE")
    assert "Traceback" not in response.text


async def test_gateway_becomes_ready_once_kafka_is_reachable(
    make_gateway: GatewayFactory, kafka_bootstrap: str, new_stream: NewStream
) -> None:
    import asyncio
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    host, real_port = kafka_bootstrap.rsplit(":", 1)
    gateway = await make_gateway(wait=False, bootstrap_servers=f"127.0.0.1:{port}", connect_retry_backoff_ms=100)
    assert (await gateway.get("/readyz")).status_code == 503

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def forward(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        broker_r, broker_w = await asyncio.open_connection(host, int(real_port))
        await asyncio.gather(pipe(client_r, broker_w), pipe(broker_r, client_w))

    # Kafka "comes up" at the bootstrap address; metadata then points the gateway at the real listener.
    server = await asyncio.start_server(forward, "127.0.0.1", port)
    try:
        for _ in range(200):
            if (await gateway.get("/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert (await gateway.get("/readyz")).json()["status"] == "ready"
        stream = await new_stream(partitions=1)
        response = await gateway.post(f"/api/v1/streams/{stream}/events", json={"value": 1})
        assert response.status_code == 201
    finally:
        server.close()

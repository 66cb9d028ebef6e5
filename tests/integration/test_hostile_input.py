"""Hostile bodies on every route that turns a body into records: each is refused with a 4xx in the route's own
envelope, with a request id, and within a bound; none reaches a 5xx or hangs. Duplicate keys are the one
accepted oddity: the last one wins, in the response and in the stored record."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.integration.conftest import GatewayFactory, read_all
from tests.integration.serving import served_gateway, wait_ready

pytestmark = pytest.mark.kafka

NewStream = Callable[..., Awaitable[str]]
BOUND_S = 10  # no request here may take longer than this
JSON = {"content-type": "application/json"}
MIB = 1024 * 1024


@dataclass(frozen=True)
class Route:
    """One produce surface: where it lives, how it wraps a JSON value into a body, and its error envelope."""

    name: str
    path: str  # `{stream}` is replaced by the test stream
    wrap: Callable[[bytes], bytes]  # a JSON value (as bytes) -> a body carrying it as event data
    keyed: Callable[[str], bytes]  # a string -> a body carrying it as the record key
    many: Callable[[int], bytes]  # n -> a body of n events (for single-event routes: an array, refused)

    def url(self, stream: str) -> str:
        return self.path.replace("{stream}", stream)


def _intake(data: bytes, event_type: bytes = b'"t"') -> bytes:
    key = uuid.uuid4().hex.encode()
    return b'{"event_type":%s,"occurred_at":"2025-01-01T00:00:00Z","idempotency_key":"%s","data":%s}' % (
        event_type,
        key,
        data,
    )


def _ingest(event: bytes, source: bytes = b'"s"') -> bytes:
    return b'{"source":%s,"timestamp":"2025-01-01T00:00:00Z","event":%s}' % (source, event)


def _native(value: bytes) -> bytes:
    return b'{"value":%s}' % value


def _array(item: bytes, count: int) -> bytes:
    return b"[" + b",".join([item] * count) + b"]"


ROUTES = [
    Route(
        "single",
        "/api/v1/streams/{stream}/events",
        _native,
        lambda key: orjson.dumps({"key": key, "value": 1}),
        lambda n: _array(_native(b"1"), n),
    ),
    Route(
        "batch",
        "/api/v1/streams/{stream}/events/batch",
        lambda value: b'{"events":[%s]}' % _native(value),
        lambda key: orjson.dumps({"events": [{"key": key, "value": 1}]}),
        lambda n: b'{"events":%s}' % _array(_native(b"1"), n),
    ),
    Route(
        "intake",
        "/v1/events",
        lambda value: _intake(b'{"v":%s}' % value),
        lambda key: _intake(b"{}", event_type=orjson.dumps(key)),  # event_type is the record key
        lambda n: _array(_intake(b"{}"), n),
    ),
    Route(
        "ingest",
        "/v1/streams/ingest",
        lambda value: _ingest(b'{"v":%s}' % value),
        lambda key: _ingest(b"{}", source=orjson.dumps(key)),  # source is the record key
        lambda n: _array(_ingest(b"{}"), n),
    ),
]

DEPTH = 10_000
VALUES = {
    "deep-array": b"[" * DEPTH + b"]" * DEPTH,
    "deep-object": b'{"a":' * DEPTH + b"1" + b"}" * DEPTH,
    "invalid-utf8": b'"\xff\xfe\xc3"',
    "lone-surrogate": b'"\\ud800"',
    "low-surrogate-first": b'"\\udc00\\ud800"',
    "1e400": b"1e400",
    "-1e400": b"-1e400",
    "NaN": b"NaN",
    "Infinity": b"Infinity",
    "-Infinity": b"-Infinity",
    "integer-2**64": str(2**64).encode(),
    "integer-below-2**63": str(-(2**63) - 1).encode(),
    "integer-400-digits": b"1" + b"0" * 400,
}


def assert_refused(route: Route, response: httpx.Response) -> None:
    """A 4xx in the route's envelope, carrying the request id."""
    assert 400 <= response.status_code < 500, response.text
    request_id = response.headers["x-request-id"]
    assert request_id
    body = response.json()
    if route.name in {"single", "batch"}:
        assert response.headers["content-type"] == "application/problem+json"
        assert body["status"] == response.status_code
        assert body["request_id"] == request_id
    elif route.name == "intake":
        assert response.headers["content-type"] == "application/json"
        assert body["error"]["request_id"] == request_id
        assert body["error"]["code"]
    else:
        assert response.headers["content-type"] == "application/json"
        assert isinstance(body["error"], str)
        assert body["detail"]


@pytest.fixture
async def target(make_gateway: GatewayFactory, new_stream: NewStream) -> tuple[httpx.AsyncClient, str]:
    gateway = await make_gateway(max_body_bytes=3 * MIB)  # room for a 1 MiB key to be judged as a key
    return gateway, await new_stream(partitions=1)


async def post(
    gateway: httpx.AsyncClient, route: Route, stream: str, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    sent = {**JSON, "x-stream-id": stream, **(headers or {})}
    async with asyncio.timeout(BOUND_S):
        return await gateway.post(route.url(stream), content=body, headers=sent)


@pytest.mark.parametrize("value", VALUES.values(), ids=VALUES.keys())
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
async def test_hostile_values_are_refused(target: tuple[httpx.AsyncClient, str], route: Route, value: bytes) -> None:
    gateway, stream = target
    assert_refused(route, await post(gateway, route, stream, route.wrap(value)))


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
async def test_a_deeply_nested_body_is_refused(target: tuple[httpx.AsyncClient, str], route: Route) -> None:
    gateway, stream = target
    for body in (VALUES["deep-array"], VALUES["deep-object"]):
        assert_refused(route, await post(gateway, route, stream, body))


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
async def test_a_one_mebibyte_key_is_refused(target: tuple[httpx.AsyncClient, str], route: Route) -> None:
    gateway, stream = target
    response = await post(gateway, route, stream, route.keyed("k" * MIB))
    if route.name == "batch":
        # A batch answers for each event (207), and the event is refused alone, as larger than the stream takes.
        assert response.status_code == 207, response.text
        (failed,) = response.json()["results"]
        assert (failed["status"], failed["code"]) == ("failed", 1010)
        return
    assert_refused(route, response)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
async def test_ten_thousand_and_one_events_are_refused(target: tuple[httpx.AsyncClient, str], route: Route) -> None:
    gateway, stream = target
    response = await post(gateway, route, stream, route.many(10_001))
    assert_refused(route, response)


@pytest.mark.parametrize("route", ROUTES[:2], ids=lambda r: r.name)  # the seed documents' events have no headers
async def test_ten_thousand_headers_on_one_event_are_refused(
    target: tuple[httpx.AsyncClient, str], route: Route
) -> None:
    gateway, stream = target
    event = {"value": 1, "headers": {f"h{i}": "v" for i in range(10_000)}}
    body = orjson.dumps(event if route.name == "single" else {"events": [event]})
    response = await post(gateway, route, stream, body)
    assert_refused(route, response)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].endswith("headers")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
async def test_a_body_not_declared_json_is_refused(
    target: tuple[httpx.AsyncClient, str], route: Route, content_type: str | None
) -> None:
    gateway, stream = target
    request = gateway.build_request(
        "POST", route.url(stream), content=route.wrap(b"1"), headers={"x-stream-id": stream}
    )
    if content_type is not None:  # httpx sends no Content-Type of its own for raw content
        request.headers["content-type"] = content_type
    async with asyncio.timeout(BOUND_S):
        response = await gateway.send(request)
    assert_refused(route, response)
    if route.name in {"single", "batch"}:
        assert (response.status_code, response.json()["code"]) == (415, 1021)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
async def test_a_body_that_never_ends_is_408(make_gateway: GatewayFactory, new_stream: NewStream, route: Route) -> None:
    gateway = await make_gateway(body_read_timeout_s=0.5)
    stream = await new_stream(partitions=1)

    async def stalled() -> AsyncIterator[bytes]:
        yield route.wrap(b"1")[:5]
        await asyncio.sleep(3600)

    started = asyncio.get_running_loop().time()
    response = await post(gateway, route, stream, stalled())
    assert asyncio.get_running_loop().time() - started < 5
    assert response.status_code == 408, response.text
    assert_refused(route, response)
    assert response.headers["connection"] == "close"
    body = response.json()
    if route.name in {"single", "batch"}:
        assert (body["code"], body["error"], body["retriable"]) == (1034, "REQUEST_TIMEOUT", True)
    elif route.name == "intake":
        assert body["error"]["code"] == "request_timeout"
    else:
        assert body["error"] == "request_timeout"


async def test_duplicate_keys_last_one_wins(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    body = b'{"value": {"a": 1, "a": 2}, "key": "first", "key": "second"}'
    response = await gateway.post(f"/api/v1/streams/{stream}/events", content=body, headers=JSON)
    assert response.status_code == 201, response.text
    (record,) = await read_all(kafka_bootstrap, stream, 1)
    assert (record.key, orjson.loads(record.value)) == (b"second", {"a": 2})


async def test_the_largest_64_bit_integers_pass_unchanged(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    value = [2**64 - 1, -(2**63), 1.5e308]
    response = await gateway.post(
        f"/api/v1/streams/{stream}/events", content=_native(orjson.dumps(value)), headers=JSON
    )
    assert response.status_code == 201, response.text
    (record,) = await read_all(kafka_bootstrap, stream, 1)
    assert orjson.loads(record.value) == value


# --- through `kafkagate serve`: what uvicorn and httptools do with a body that stops arriving ---

SERVED_BODY_TIMEOUT_S = 1
SERVED_HEAD_TIMEOUT_S = 1


@pytest.fixture(scope="module")
def served(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """A real gateway process whose bodies must arrive within a second; yields (port, log path)."""
    log_path = tmp_path_factory.mktemp("hostile") / "gateway.log"
    env = {
        "KAFKAGATE_BODY_READ_TIMEOUT_S": str(SERVED_BODY_TIMEOUT_S),
        "KAFKAGATE_HEADER_READ_TIMEOUT_S": str(SERVED_HEAD_TIMEOUT_S),
    }
    with served_gateway(kafka_bootstrap, log_path, env) as (process, base_url):
        asyncio.run(wait_ready(process, base_url, log_path))
        yield int(base_url.rsplit(":", 1)[1]), log_path


async def exchange(port: int, request: bytes) -> tuple[float, bytes]:
    """Send `request` and then nothing more; return how long until the server closed, and all it sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(SERVED_BODY_TIMEOUT_S + BOUND_S):
            received = await reader.read()  # until the server closes the connection
        return loop.time() - started, received
    finally:
        writer.close()


def head(route: Route, framing: bytes) -> bytes:
    return (
        b"POST %s HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\nx-stream-id: no-such-stream\r\n"
        % route.url("no-such-stream").encode()
        + framing
        + b"\r\n"
    )


@pytest.mark.parametrize(
    ("framing", "body"),
    [
        (b"transfer-encoding: chunked\r\n", b'5\r\n{"val\r\n'),  # the last chunk never comes
        (b"content-length: 100\r\n", b'{"val'),  # 95 bytes short
    ],
    ids=["chunked", "content-length"],
)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
async def test_a_stalled_body_is_answered_408_and_the_connection_closed(
    served: tuple[int, Path], route: Route, framing: bytes, body: bytes
) -> None:
    port, _ = served
    elapsed, received = await exchange(port, head(route, framing) + body)
    status_line, _, rest = received.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout", received
    headers, _, content = rest.partition(b"\r\n\r\n")
    fields = dict(line.split(b": ", 1) for line in headers.split(b"\r\n"))
    assert fields[b"connection"] == b"close"
    assert fields[b"x-request-id"].startswith(b"req_")
    expected = b"application/problem+json" if route.name in {"single", "batch"} else b"application/json"
    assert fields[b"content-type"] == expected
    assert fields[b"x-request-id"] in content or route.name == "ingest"  # ingest's envelope has no request id
    assert SERVED_BODY_TIMEOUT_S <= elapsed < SERVED_BODY_TIMEOUT_S + 2


@pytest.mark.parametrize(
    "request_bytes",
    [b"", b"POST /v1/events HTTP/1.1\r\nhost: gateway\r\n", b"GET /healthz HTTP/1.1\r\nhost: gateway\r\n\r\nGET /h"],
    ids=["nothing", "half-a-head", "half-the-second-head"],
)
async def test_a_request_head_that_never_ends_is_closed(served: tuple[int, Path], request_bytes: bytes) -> None:
    """uvicorn alone would hold these connections open for ever (gateway.http_protocol)."""
    port, _ = served
    elapsed, received = await exchange(port, request_bytes)
    if b"/healthz" in request_bytes:
        assert received.startswith(b"HTTP/1.1 200 OK"), received  # the first request is answered; then closed
    else:
        assert received == b""
    assert elapsed < SERVED_HEAD_TIMEOUT_S + 2


async def visible(gateway: httpx.AsyncClient, stream: str) -> None:
    """Wait until the gateway sees a topic just created behind its back (broker metadata can lag creation)."""
    for _ in range(100):
        if (await gateway.get(f"/api/v1/streams/{stream}")).status_code == 200:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{stream} never became visible")


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
async def test_a_one_mebibyte_member_name_is_refused(target: tuple[httpx.AsyncClient, str], route: Route) -> None:
    """A 1 MiB string as an object's member name (not a record key): too large for the stream, never a 5xx."""
    gateway, stream = target
    await visible(gateway, stream)
    response = await post(gateway, route, stream, route.wrap(orjson.dumps({"k" * MIB: 1})))
    if route.name == "batch":
        assert response.status_code == 207, response.text
        (failed,) = response.json()["results"]
        assert (failed["status"], failed["code"]) == ("failed", 1010)
        return
    assert_refused(route, response)


@pytest.mark.parametrize(
    "key",
    [b'"\\ud800"', b'"\xff\xfe"', b'"a\\u0000b"'],
    ids=["lone-surrogate", "invalid-utf8", "nul"],
)
@pytest.mark.parametrize("route", ROUTES[:2], ids=lambda r: r.name)
async def test_a_record_key_or_header_that_is_not_text_is_refused_or_kept_exact(
    target: tuple[httpx.AsyncClient, str], route: Route, key: bytes, kafka_bootstrap: str
) -> None:
    """Keys and header values become bytes in Kafka: one that is not valid Unicode is refused, never a 5xx;
    one that is (a NUL is) is written exactly."""
    gateway, stream = target
    await visible(gateway, stream)
    event = b'{"key": %s, "value": 1, "headers": {"h": %s}}' % (key, key)
    body = event if route.name == "single" else b'{"events": [%s]}' % event
    response = await post(gateway, route, stream, body)
    if key == b'"a\\u0000b"':
        assert response.status_code in {200, 201}, response.text
        (record,) = await read_all(kafka_bootstrap, stream, 1)
        assert record.key == b"a\x00b"
        assert dict(record.headers)["h"] == b"a\x00b"
        return
    assert_refused(route, response)


# Every other operation that reads a JSON body; each gets the hostile values as the whole body and as a member.
BODY_OPERATIONS = [
    ("POST", "/api/v1/streams"),
    ("PATCH", "/api/v1/streams/{stream}"),
    ("PUT", "/api/v1/streams/{stream}/schema"),
    ("POST", "/api/v1/consumers/hostile-group/commit"),
    ("POST", "/api/v1/consumers/hostile-group/reset"),
    ("POST", "/api/v1/processors"),
    ("PUT", "/api/v1/processors/proc_hostile"),
    ("POST", "/api/v1/keys"),
    ("POST", "/api/v1/tenants"),
    ("POST", "/auth/token"),
]


def test_every_operation_with_a_body_is_covered_here() -> None:
    from gateway.openapi import OPERATIONS

    covered = {
        (method, path.replace("hostile-group", "{group}").replace("proc_hostile", "{processor_id}"))
        for method, path in BODY_OPERATIONS
    }
    covered |= {("POST", route.path) for route in ROUTES}
    covered |= set(SEED_BODY_OPERATIONS)
    # Octet-stream bodies (a log append, a view query's input) are any bytes by definition: nothing is hostile.
    with_body = {
        (op.method.upper(), op.path)
        for op in OPERATIONS
        if op.body is not None and op.body_media_type == "application/json"
    }
    assert with_body == covered


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS, ids=[f"{m} {p}" for m, p in BODY_OPERATIONS])
async def test_hostile_bodies_on_every_other_operation_are_4xx_problems(
    target: tuple[httpx.AsyncClient, str], method: str, path: str
) -> None:
    gateway, stream = target
    url = path.replace("{stream}", stream)
    bodies = [*VALUES.values(), *(b'{"name": %s, "metadata": {"m": %s}}' % (v, v) for v in VALUES.values())]
    for body in bodies:
        async with asyncio.timeout(BOUND_S):
            response = await gateway.request(method, url, content=body, headers=JSON)
        assert 400 <= response.status_code < 500, (body[:40], response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["request_id"] == response.headers["x-request-id"]
    for content_type in ("text/plain", None):
        request = gateway.build_request(method, url, content=b"{}")
        if content_type is not None:
            request.headers["content-type"] = content_type
        response = await gateway.send(request)
        assert (response.status_code, response.json()["code"]) == (415, 1021), response.text


# The seed APIs' JSON bodies (lake, seed 000; event logs, seed 002): refused in each API's own envelope.
SEED_BODY_OPERATIONS = [
    ("POST", "/v1/tenants"),
    ("POST", "/v1/schemas"),
    ("PATCH", "/v1/schemas/{schema_id}"),
    ("POST", "/v1/datasets"),
    ("POST", "/v1/collect"),
    ("POST", "/logs/{log_id}/views/{view}"),
]


@pytest.mark.parametrize(("method", "path"), SEED_BODY_OPERATIONS, ids=[f"{m} {p}" for m, p in SEED_BODY_OPERATIONS])
async def test_hostile_bodies_on_the_seed_apis_are_4xx_in_their_envelope(
    target: tuple[httpx.AsyncClient, str], method: str, path: str
) -> None:
    gateway, _ = target
    slug = f"hostile{uuid.uuid4().hex[:8]}"
    created = await gateway.post("/api/v1/tenants", json={"slug": slug, "name": slug})
    assert created.status_code == 201, created.text
    headers = {**JSON, "x-tenant-id": created.json()["id"]}
    url = path.replace("{schema_id}", "019e0000-0000-7000-8000-000000000000").replace("{view}", "v")
    if "{log_id}" in url:
        log = await gateway.post(f"/logs/{slug}", headers={"x-tenant-id": headers["x-tenant-id"]})
        assert log.status_code == 200, log.text
        url = url.replace("{log_id}", log.json()["log_id"])
    if path == "/v1/tenants":
        headers.pop("x-tenant-id")
    for body in VALUES.values():
        async with asyncio.timeout(BOUND_S):
            response = await gateway.request(method, url, content=body, headers=headers)
        assert 400 <= response.status_code < 500, (body[:40], response.text)
        assert response.headers["content-type"].startswith("application/json"), response.text
        assert response.json()["request_id"] == response.headers["x-request-id"]

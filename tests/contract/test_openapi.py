"""The OpenAPI document against the app: every route documented, the document valid, and every failure a
problem document the document allows. No broker: the app points at an address where nothing listens, so these
run in milliseconds and exercise the paths that must never need Kafka to answer well."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate
from starlette.routing import Route

from gateway.app import create_app
from gateway.kafka.clients import KafkaClients
from gateway.openapi import OPERATIONS
from gateway.settings import Settings

SAMPLE_PATH_VALUES = {
    "stream": "orders",
    "event_id": "evt_0_0",
    "partition": "0",
    "group": "not a group!",
    "processor_id": "p1",
}


def dead_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(bootstrap_servers=dead_address(), auth="off")
    app = create_app(settings, kafka=KafkaClients(settings))  # never started: Kafka is "down"
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_document_is_valid_openapi(client: httpx.AsyncClient) -> None:
    validate(await document(client))


async def test_every_route_is_documented_and_every_operation_routed(client: httpx.AsyncClient) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    routed = {
        (method.lower(), route.path.replace(":int}", "}"))
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(op.method, op.path) for op in OPERATIONS}
    assert routed == documented


def concrete(path: str) -> str:
    for name, value in SAMPLE_PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    return path


NATIVE = [op for op in OPERATIONS if op.envelope is None]
SEED = [op for op in OPERATIONS if op.envelope is not None]
INTAKE = [op for op in SEED if op.envelope == "IntakeError"]  # the ingest envelope: tests/contract/test_ingest.py


# /metrics answers without Kafka; its one failure (a missing metrics token) has its own test below.
FAILING_WITHOUT_KAFKA = [op for op in NATIVE if op.errors and op.path != "/metrics"]


@pytest.mark.parametrize("operation", FAILING_WITHOUT_KAFKA, ids=lambda op: f"{op.method} {op.path}")
async def test_failures_are_documented_problem_documents(client: httpx.AsyncClient, operation: Any) -> None:
    spec = await document(client)
    envelope_schema = {**spec["components"]["schemas"]["Problem"], "components": spec["components"]}
    kwargs: dict[str, Any] = {}
    if operation.body is not None:
        kwargs = {"content": b'{"not": "valid"', "headers": {"content-type": "application/json"}}
    response = await client.request(operation.method.upper(), concrete(operation.path), **kwargs)
    assert response.status_code >= 400
    documented = spec["paths"][operation.path][operation.method]["responses"][str(response.status_code)]
    assert response.headers["content-type"] in documented["content"]
    body = response.json()
    jsonschema.validate(body, envelope_schema)
    assert response.headers["content-type"] == "application/problem+json"
    assert body["request_id"] == response.headers["x-request-id"]
    if response.status_code == 503:
        assert body["code"] == 1011
        assert int(response.headers["retry-after"]) > 0
    if operation.body is not None:
        # Malformed JSON is a serialization error, unless the path was refused first.
        assert (response.status_code, body["code"]) in {(400, 1004), (400, 1022)}


@pytest.mark.parametrize("operation", INTAKE, ids=lambda op: f"{op.method} {op.path}")
async def test_intake_failures_are_documented_in_their_own_envelope(client: httpx.AsyncClient, operation: Any) -> None:
    spec = await document(client)
    schema = {**spec["components"]["schemas"][operation.envelope], "components": spec["components"]}
    documented = spec["paths"][operation.path][operation.method]["responses"]
    assert documented["default"]["content"] == {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{operation.envelope}"}}
    }
    kwargs: dict[str, Any] = {}
    if operation.body is not None:
        kwargs = {"content": b'{"not": "valid"', "headers": {"content-type": "application/json"}}
    response = await client.request(operation.method.upper(), concrete(operation.path), **kwargs)
    assert response.status_code >= 400
    assert str(response.status_code) in documented
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    jsonschema.validate(body, schema)
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    # Malformed JSON and unknown ids are refused before Kafka is needed.
    expected = (400, "invalid_request") if operation.body is not None else (404, "not_found")
    assert (response.status_code, body["error"]["code"]) == expected


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
async def test_quota_and_overload_responses_are_documented(client: httpx.AsyncClient, operation: Any) -> None:
    responses = (await document(client))["paths"][operation.path][operation.method]["responses"]
    if operation.public:
        assert "429" not in responses
        return
    assert set(responses["429"]["headers"]) == {"Retry-After", "RateLimit-Policy", "RateLimit"}
    assert set(responses["503"]["headers"]) == {"Retry-After"}
    assert {"RateLimit-Policy", "RateLimit"} <= set(responses[str(operation.success)]["headers"])


async def test_a_quota_refusal_is_a_documented_problem_document() -> None:
    settings = Settings(bootstrap_servers=dead_address(), auth="off", rate_limit_requests_per_s=1)
    app = create_app(settings, kafka=KafkaClients(settings))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        spec = await document(http)
        first = await http.get("/api/v1/streams")
        refused = await http.get("/api/v1/streams")
    assert first.status_code == 503  # spent the one token; Kafka is down
    assert first.headers["ratelimit"].startswith('"default";r=0;t=1, "bytes";')
    assert refused.status_code == 429
    problem_schema = {**spec["components"]["schemas"]["Problem"], "components": spec["components"]}
    body = refused.json()
    jsonschema.validate(body, problem_schema)
    assert (body["code"], body["error"], body["violated-policies"]) == (1005, "QUOTA_EXCEEDED", ["default"])
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["ratelimit-policy"].startswith('"default";q=1;w=1')


IDEMPOTENT = [op for op in OPERATIONS if op.idempotent]


def test_idempotent_operations_are_the_documented_ones() -> None:
    assert {(op.method, op.path) for op in IDEMPOTENT} == {
        ("post", "/api/v1/streams"),
        ("post", "/api/v1/streams/{stream}/events"),
        ("post", "/api/v1/streams/{stream}/events/batch"),
        ("post", "/api/v1/consumers/{group}/commit"),
        ("post", "/api/v1/processors"),
    }


@pytest.mark.parametrize("operation", IDEMPOTENT, ids=lambda op: f"{op.method} {op.path}")
async def test_idempotency_key_is_documented_and_checked_before_kafka(
    client: httpx.AsyncClient, operation: Any
) -> None:
    spec = await document(client)
    documented = spec["paths"][operation.path][operation.method]
    (header,) = [p for p in documented["parameters"] if p["in"] == "header" and p["name"] == "Idempotency-Key"]
    assert "86400 s" in header["description"]  # the idempotency window, from the settings
    assert "Idempotent-Replayed" in documented["responses"][str(operation.success)]["headers"]
    assert {"400", "409", "422"} <= set(documented["responses"])

    headers = {"content-type": "application/json", "idempotency-key": "x" * 256}
    response = await client.request(operation.method.upper(), concrete(operation.path), content=b"{}", headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["code"], response.json()["error"]) == (1026, "INVALID_IDEMPOTENCY_KEY")
    problem_schema = {**spec["components"]["schemas"]["Problem"], "components": spec["components"]}
    jsonschema.validate(response.json(), problem_schema)


async def test_a_valid_key_while_kafka_is_down_is_503(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json", "idempotency-key": "k-1"}
    response = await client.post("/api/v1/streams/orders/events", content=b'{"value": 1}', headers=headers)
    assert response.status_code == 503, response.text
    assert response.json()["code"] == 1011
    assert int(response.headers["retry-after"]) > 0


async def test_metrics_is_documented_text_and_its_refusal_a_documented_problem() -> None:
    token = "m" * 32
    settings = Settings(bootstrap_servers=dead_address(), auth="off", metrics_token=token)
    app = create_app(settings, kafka=KafkaClients(settings))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        spec = await document(http)
        responses = spec["paths"]["/metrics"]["get"]["responses"]
        refused = await http.get("/metrics")
        scraped = await http.get("/metrics", headers={"authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    jsonschema.validate(refused.json(), {**spec["components"]["schemas"]["Problem"], "components": spec["components"]})
    assert "401" in responses
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].split(";")[0] in responses["200"]["content"]
    assert "kafkagate_http_requests_total" in scraped.text


@pytest.mark.parametrize(
    ("path", "allow", "media_type"),
    [
        ("/api/v1/streams", "GET, HEAD, POST", "application/problem+json"),
        ("/api/v1/streams/orders", "DELETE, GET, HEAD, PATCH", "application/problem+json"),
        ("/api/v1/streams/orders/events", "GET, HEAD, POST", "application/problem+json"),
        ("/api/v1/streams/orders/events/batch", "POST", "application/problem+json"),
        ("/api/v1/streams/orders/events/evt_0_0", "GET, HEAD", "application/problem+json"),
        ("/v1/streams/ingest", "POST", "application/json"),
        ("/v1/events", "POST", "application/json"),
        ("/logs/some-log", "DELETE, POST", "application/json"),  # create by name, delete by id: one path
    ],
)
async def test_a_method_the_path_does_not_serve_is_405_with_every_allowed_method(
    client: httpx.AsyncClient, path: str, allow: str, media_type: str
) -> None:
    """Found by schemathesis: a 405 had no Allow field (RFC 9110 section 15.5.6 requires it), and starlette's
    own names only the first route that matched the path, not every method the path serves."""
    response = await client.request("TRACE", path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == media_type
    assert response.headers["x-request-id"]


async def test_the_partition_limit_is_documented_and_enforced_before_kafka() -> None:
    """Found by schemathesis: streams of thousands of partitions outlast a request on a busy broker (504); a
    gateway can now cap them (KAFKAGATE_STREAM_MAX_PARTITIONS), and its document says so."""
    settings = Settings(bootstrap_servers=dead_address(), auth="off", stream_max_partitions=4)
    app = create_app(settings, kafka=KafkaClients(settings))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        schemas = (await document(http))["components"]["schemas"]
        assert schemas["StreamCreate"]["properties"]["partitions"]["maximum"] == 4
        assert {"maximum": 4, "minimum": 1, "type": "integer"} in schemas["StreamPatch"]["properties"]["partitions"][
            "anyOf"
        ]
        created = await http.post("/api/v1/streams", json={"name": "wide", "partitions": 5})
        patched = await http.patch("/api/v1/streams/wide", json={"partitions": 5})
    for response in (created, patched):
        assert response.status_code == 422, response.text
        assert response.json()["errors"] == [
            {"field": "partitions", "message": "must be at most 4 (KAFKAGATE_STREAM_MAX_PARTITIONS)"}
        ]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "s", "partitions": True},
        {"name": "s", "config": {"retentionBytes": False}},
        {"name": "s", "replicationFactor": True},
    ],
)
async def test_a_boolean_is_not_a_number_in_stream_shapes(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    """Found by schemathesis: pydantic's lax mode read `false` as 0, accepting what the document refuses."""
    response = await client.post("/api/v1/streams", json=body)
    assert response.status_code == 422, response.text
    assert "not a boolean" in response.text

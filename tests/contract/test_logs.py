"""The event log API (seed 002) against the OpenAPI document, with Kafka down: every failure comes in the
document's envelope (`{"success": false, "error": {...}, "request_id"}`) with a status the document lists."""

from __future__ import annotations

import httpx
import jsonschema
import pytest

from gateway.openapi import OPERATIONS, Operation
from tests.contract import test_openapi
from tests.contract.test_openapi import document

client = test_openapi.client  # the same Kafka-less app fixture

LOGS = [op for op in OPERATIONS if op.envelope == "LogError"]
LOG_ID = "0b7e1c9a-3f5d-4c2a-9e8b-1d2c3b4a5f60"


def concrete(path: str) -> str:
    return path.replace("{log}", LOG_ID).replace("{log_id}", LOG_ID).replace("{view}", "counter")


def test_every_log_route_is_a_seed_operation() -> None:
    assert {(op.method, op.path) for op in LOGS} == {
        ("post", "/logs/{log}"),
        ("delete", "/logs/{log}"),
        ("post", "/logs/{log_id}/append"),
        ("post", "/logs/{log_id}/views/{view}"),
        ("delete", "/logs/{log_id}/views/{view}"),
        ("get", "/logs/{log_id}/views/{view}/stats"),
        ("post", "/logs/{log_id}/views/{view}/query"),
    }


@pytest.mark.parametrize("operation", LOGS, ids=lambda op: f"{op.method} {op.path}")
async def test_failures_come_in_the_documents_envelope(client: httpx.AsyncClient, operation: Operation) -> None:
    spec = await document(client)
    schema = {**spec["components"]["schemas"]["LogError"], "components": spec["components"]}
    documented = spec["paths"][operation.path][operation.method]["responses"]
    response = await client.request(
        operation.method.upper(),
        concrete(operation.path),
        content=b"x",
        headers={"content-type": operation.body_media_type},
    )
    assert response.status_code == 503, response.text  # every operation needs the registry, so Kafka
    assert str(response.status_code) in documented
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    jsonschema.validate(body, schema)
    assert body["success"] is False
    assert body["error"]["code"] == "unavailable"
    assert body["request_id"] == response.headers["x-request-id"]
    assert int(response.headers["retry-after"]) > 0


async def test_a_bad_name_and_a_bad_after_are_refused_before_kafka(client: httpx.AsyncClient) -> None:
    bad_name = await client.post("/logs/-nope")
    assert bad_name.status_code == 400
    assert bad_name.json()["error"]["code"] == "invalid_request"
    bad_after = await client.post(f"/logs/{LOG_ID}/views/counter/query?after=one", content=b"")
    assert bad_after.status_code == 400
    assert "sequence number" in bad_after.json()["error"]["message"]
    unrouted = await client.get("/logs/nothing/here/at/all")
    assert unrouted.status_code == 404
    assert unrouted.json()["error"]["code"] == "not_found"

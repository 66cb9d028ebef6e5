"""The ingest API (seed 001) against the OpenAPI document, with Kafka down: every refusal that needs no broker
comes in the document's envelope, as documented, and a request that needs Kafka is a 503 in it too."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

from gateway.app import create_app
from gateway.kafka.clients import KafkaClients
from gateway.seeds.ingest_events import TIMESTAMP_DETAIL
from gateway.settings import Settings
from tests.contract import test_openapi
from tests.contract.test_openapi import dead_address, document

client = test_openapi.client  # the same Kafka-less app fixture

PATH = "/v1/streams/ingest"
EVENT = b'{"timestamp": "2025-02-12T14:32:15Z", "source": "payments-app", "event": {"amount": 499}}'
JSON = {"content-type": "application/json", "x-stream-id": "a0c3b4de-1923-4ff1-8dba-f92ad912d20f"}


async def refused(client: httpx.AsyncClient, response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    spec = await document(client)
    schema = {**spec["components"]["schemas"]["IngestError"], "components": spec["components"]}
    assert response.status_code == status, response.text
    assert str(status) in spec["paths"][PATH]["post"]["responses"] or status == 405
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    jsonschema.validate(body, schema)
    assert body["error"] == error
    return body


async def test_kafka_down_is_503_unavailable_with_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.post(PATH, content=EVENT, headers=JSON)
    await refused(client, response, 503, "unavailable")
    assert int(response.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", b'"x"', b'{"source": "a"}', b'{"event": {}}', b'{"source": "a", "event": {}, "timestamp": "now"}'],
)
async def test_bad_bodies_are_400_invalid_format_before_kafka_is_needed(client: httpx.AsyncClient, body: bytes) -> None:
    await refused(client, await client.post(PATH, content=body, headers=JSON), 400, "invalid_format")


async def test_the_timestamp_detail_is_the_documents(client: httpx.AsyncClient) -> None:
    body = b'{"source": "a", "event": {}, "timestamp": "12/02/2025"}'
    assert (await refused(client, await client.post(PATH, content=body, headers=JSON), 400, "invalid_format")) == {
        "error": "invalid_format",
        "detail": TIMESTAMP_DETAIL,
    }


async def test_a_body_over_the_limit_is_400_not_413(client: httpx.AsyncClient) -> None:
    oversize = EVENT + b" " * (1024 * 1024 + 1 - len(EVENT))
    body = await refused(client, await client.post(PATH, content=oversize, headers=JSON), 400, "invalid_format")
    assert "maximum size" in body["detail"]


async def test_wrong_method_and_media_type_keep_the_envelope(client: httpx.AsyncClient) -> None:
    await refused(client, await client.get(PATH), 405, "method_not_allowed")
    as_text = {**JSON, "content-type": "text/plain"}
    await refused(client, await client.post(PATH, content=EVENT, headers=as_text), 400, "invalid_format")


async def test_without_a_token_is_401_unauthorized() -> None:
    settings = Settings(bootstrap_servers=dead_address(), admin_token="r" * 40)
    app = create_app(settings, kafka=KafkaClients(settings))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        response = await http.post(PATH, content=EVENT, headers=JSON)
        await refused(http, response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")

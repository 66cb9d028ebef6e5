"""Stream schemas on the native produce API, checked through a second door: a plain aiokafka consumer reads what
landed in the stream and in its dead-letter stream."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest

from tests.integration.conftest import GatewayFactory, read_all
from tests.integration.principals import as_token, new_key, new_tenant

pytestmark = pytest.mark.kafka

NewStream = Callable[..., Awaitable[str]]

ORDER = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["orderId", "amount"],
    "properties": {
        "orderId": {"type": "string", "pattern": "^o-[0-9]+$"},
        "amount": {"type": "number", "minimum": 0},
        "items": {"type": "array", "items": {"type": "string"}},
    },
}
GOOD = {"orderId": "o-1", "amount": 12.5, "items": ["a"]}
BAD = {"orderId": "o-2", "amount": -1, "items": ["a", 2]}  # two violations: /amount and /items/1


async def set_schema(client: httpx.AsyncClient, stream: str, mode: str, schema: Any = None) -> dict[str, Any]:
    body = {"schema": ORDER if schema is None else schema, "onInvalid": mode}
    response = await client.put(f"/api/v1/streams/{stream}/schema", json=body)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def headers_of(record: Any) -> dict[str, bytes]:
    return dict(record.headers)


async def test_put_get_delete_and_versions(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    stream = await new_stream(partitions=1)
    first = await set_schema(gateway, stream, "reject")
    assert set(first) == {"stream", "schema", "onInvalid", "version", "updatedAt"}
    assert (first["stream"], first["schema"], first["onInvalid"], first["version"]) == (stream, ORDER, "reject", 1)
    assert (await gateway.get(f"/api/v1/streams/{stream}/schema")).json() == first

    second = await set_schema(gateway, stream, "deadLetter", {"type": "object"})
    assert (second["version"], second["onInvalid"]) == (2, "deadLetter")
    assert (await gateway.get(f"/api/v1/streams/{stream}/schema")).json() == second

    deleted = await gateway.delete(f"/api/v1/streams/{stream}/schema")
    assert deleted.status_code == 200, deleted.text
    assert (deleted.json()["schema"], deleted.json()["version"]) == (None, 3)
    gone = await gateway.get(f"/api/v1/streams/{stream}/schema")
    assert gone.status_code == 404
    assert (gone.json()["code"], gone.json()["error"]) == (1033, "SCHEMA_NOT_FOUND")
    assert (await gateway.delete(f"/api/v1/streams/{stream}/schema")).status_code == 404
    # Versions keep growing across a delete, so a dead letter's version names one schema.
    assert (await set_schema(gateway, stream, "reject"))["version"] == 4


async def test_produce_stops_validating_after_delete(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    stream = await new_stream(partitions=1)
    await set_schema(gateway, stream, "reject")
    assert (await gateway.post(f"/api/v1/streams/{stream}/events", json={"value": BAD})).status_code == 422
    assert (await gateway.delete(f"/api/v1/streams/{stream}/schema")).status_code == 200
    assert (await gateway.post(f"/api/v1/streams/{stream}/events", json={"value": BAD})).status_code == 201


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ({"type": "wat"}, "schema/type"),
        ({"properties": {"amount": {"minimum": "zero"}}}, "schema/properties/amount/minimum"),
        ({"$schema": "http://json-schema.org/draft-07/schema#"}, "schema/$schema"),
        ({"$ref": "https://example.com/order.json"}, "schema"),
        ({"properties": {"id": {"pattern": "(?=a)b"}}}, "schema/properties/id/pattern"),
    ],
)
async def test_an_invalid_schema_is_422_saying_why(
    gateway: httpx.AsyncClient, new_stream: NewStream, schema: dict[str, Any], field: str
) -> None:
    stream = await new_stream(partitions=1)
    response = await gateway.put(f"/api/v1/streams/{stream}/schema", json={"schema": schema, "onInvalid": "reject"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["code"], body["error"]) == (1007, "VALIDATION_ERROR")
    assert [e["field"] for e in body["errors"]] == [field]
    assert all(e["message"] for e in body["errors"])
    assert (await gateway.get(f"/api/v1/streams/{stream}/schema")).status_code == 404


async def test_a_schema_on_an_unknown_stream_is_404(gateway: httpx.AsyncClient) -> None:
    stream = f"t-missing-{uuid.uuid4().hex[:8]}"
    response = await gateway.put(f"/api/v1/streams/{stream}/schema", json={"schema": ORDER})
    assert response.status_code == 404
    assert response.json()["code"] == 1001
    assert (await gateway.get(f"/api/v1/streams/{stream}/schema")).status_code == 404


async def test_reject_single(gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str) -> None:
    stream = await new_stream(partitions=1)
    await set_schema(gateway, stream, "reject")
    refused = await gateway.post(f"/api/v1/streams/{stream}/events", json={"key": "k", "value": BAD})
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert (body["code"], body["error"]) == (1032, "SCHEMA_VIOLATION")
    assert sorted(e["field"] for e in body["errors"]) == ["/amount", "/items/1"]
    assert {e["keyword"] for e in body["errors"]} == {"minimum", "type"}
    assert all(e["type"] == "schema" and e["message"] for e in body["errors"])
    missing = await gateway.post(f"/api/v1/streams/{stream}/events", json={"value": {"amount": 1}})
    assert [(e["field"], e["keyword"]) for e in missing.json()["errors"]] == [("", "required")]

    accepted = await gateway.post(f"/api/v1/streams/{stream}/events", json={"key": "k", "value": GOOD})
    assert accepted.status_code == 201, accepted.text
    records = await read_all(kafka_bootstrap, stream, 1)
    assert [orjson.loads(r.value) for r in records] == [GOOD]  # nothing of the refused ones
    assert records[0].offset == accepted.json()["offset"]


async def test_reject_batch_is_a_207_mix(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=2)
    await set_schema(gateway, stream, "reject")
    values = [GOOD, BAD, {**GOOD, "orderId": "o-3"}, {"orderId": "nope", "amount": 1}]
    events = [{"key": f"k{i}", "value": v} for i, v in enumerate(values)]
    response = await gateway.post(f"/api/v1/streams/{stream}/events/batch", json={"events": events})
    assert response.status_code == 207, response.text
    body = response.json()
    assert (body["successCount"], body["failureCount"], body["deadLetteredCount"]) == (2, 2, 0)
    results = body["results"]
    assert [r["status"] for r in results] == ["published", "failed", "published", "failed"]
    assert (results[1]["index"], results[1]["code"], results[1]["error"]) == (1, 1032, "SCHEMA_VIOLATION")
    assert sorted(e["field"] for e in results[1]["errors"]) == ["/amount", "/items/1"]
    assert [e["field"] for e in results[3]["errors"]] == ["/orderId"]

    records = await read_all(kafka_bootstrap, stream, 2)
    landed = {(r.partition, r.offset): orjson.loads(r.value) for r in records}
    assert landed == {(results[i]["partition"], results[i]["offset"]): values[i] for i in (0, 2)}


async def test_dead_letter_single(gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str) -> None:
    stream = await new_stream(partitions=3)
    version = (await set_schema(gateway, stream, "deadLetter"))["version"]
    body = {"key": "user-7", "value": BAD, "headers": {"correlationId": "c-1"}, "timestamp": 1_700_000_000_000}
    response = await gateway.post(f"/api/v1/streams/{stream}/events", json=body)
    assert response.status_code == 202, response.text
    result = response.json()
    assert result["status"] == "dead-lettered"
    assert (result["stream"], result["reason"], result["schemaVersion"]) == (f"{stream}.dlq", "schema", version)
    assert sorted(e["field"] for e in result["errors"]) == ["/amount", "/items/1"]
    assert response.headers["location"] == f"/api/v1/streams/{stream}.dlq/events/{result['eventId']}"

    (letter,) = await read_all(kafka_bootstrap, f"{stream}.dlq", 1)
    assert (letter.partition, letter.offset) == (result["partition"], result["offset"])
    assert letter.key == b"user-7"
    assert orjson.loads(letter.value) == BAD  # the value unchanged
    headers = headers_of(letter)
    assert headers["correlationId"] == b"c-1"
    assert headers["kafkagate-reason"] == b"schema"
    assert headers["kafkagate-schema-version"] == str(version).encode()
    assert sorted(orjson.loads(headers["kafkagate-schema-pointers"])) == ["/amount", "/items/1"]
    assert headers["kafkagate-source-topic"] == stream.encode()
    assert headers["kafkagate-source-timestamp"] == b"1700000000000"
    assert b"minimum" in headers["kafkagate-error"]

    good = await gateway.post(f"/api/v1/streams/{stream}/events", json={"key": "user-7", "value": GOOD})
    assert good.status_code == 201
    assert [orjson.loads(r.value) for r in await read_all(kafka_bootstrap, stream, 1)] == [GOOD]
    partitions = await gateway.get(f"/api/v1/streams/{stream}.dlq")
    assert partitions.json()["partitions"] == 3  # created with the stream's partitions


async def test_dead_letter_batch(gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str) -> None:
    stream = await new_stream(partitions=2)
    await set_schema(gateway, stream, "deadLetter")
    values = [BAD, GOOD, {"amount": "x"}]
    events = [{"key": f"k{i}", "value": v} for i, v in enumerate(values)]
    response = await gateway.post(f"/api/v1/streams/{stream}/events/batch", json={"events": events})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["successCount"], body["failureCount"], body["deadLetteredCount"]) == (3, 0, 2)
    results = body["results"]
    assert [r["status"] for r in results] == ["dead-lettered", "published", "dead-lettered"]
    assert {r["stream"] for r in (results[0], results[2])} == {f"{stream}.dlq"}
    assert sorted(e["field"] for e in results[2]["errors"]) == ["", "/amount"]

    (published,) = await read_all(kafka_bootstrap, stream, 1)
    assert (published.partition, published.offset, orjson.loads(published.value)) == (
        results[1]["partition"],
        results[1]["offset"],
        GOOD,
    )
    letters = await read_all(kafka_bootstrap, f"{stream}.dlq", 2)
    by_place = {(r.partition, r.offset): r for r in letters}
    for i in (0, 2):
        letter = by_place[(results[i]["partition"], results[i]["offset"])]
        assert orjson.loads(letter.value) == values[i]
        assert letter.key == f"k{i}".encode()
        pointers = orjson.loads(headers_of(letter)["kafkagate-schema-pointers"])
        assert sorted(pointers) == sorted(e["field"] for e in results[i]["errors"])


async def test_tombstones_are_not_checked(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    stream = await new_stream(partitions=1)
    await set_schema(gateway, stream, "reject")
    response = await gateway.post(f"/api/v1/streams/{stream}/events", json={"key": "k", "value": None})
    assert response.status_code == 201, response.text


async def test_a_change_on_one_gateway_is_enforced_by_another(
    make_gateway: GatewayFactory, new_stream: NewStream
) -> None:
    first, second = await make_gateway(), await make_gateway()
    stream = await new_stream(partitions=1)
    # The second gateway has served this stream (and read the schema table) before the schema exists.
    assert (await second.post(f"/api/v1/streams/{stream}/events", json={"value": BAD})).status_code == 201
    await set_schema(first, stream, "reject")

    async def refused_by_second() -> bool:
        response = await second.post(f"/api/v1/streams/{stream}/events", json={"value": BAD})
        return response.status_code == 422

    async def until(check: Callable[[], Awaitable[bool]]) -> None:
        # Polls the other gateway: the change reaches it through its tail, with nothing here to wait on.
        async with asyncio.timeout(5):
            for _ in range(500):
                if await check():
                    return
                await asyncio.sleep(0.1)
        pytest.fail("the second gateway did not enforce the change within 5 s")

    await until(refused_by_second)
    assert (await first.delete(f"/api/v1/streams/{stream}/schema")).status_code == 200

    async def accepted_by_second() -> bool:
        response = await second.post(f"/api/v1/streams/{stream}/events", json={"value": BAD})
        return response.status_code == 201

    await until(accepted_by_second)


async def test_a_fresh_gateway_enforces_schemas_from_its_first_event(
    make_gateway: GatewayFactory, new_stream: NewStream
) -> None:
    first = await make_gateway()
    stream = await new_stream(partitions=1)
    await set_schema(first, stream, "reject")
    fresh = await make_gateway()
    assert (await fresh.post(f"/api/v1/streams/{stream}/events", json={"value": BAD})).status_code == 422


async def test_tenants_schemas_are_isolated(gateway: httpx.AsyncClient, kafka_bootstrap: str) -> None:
    clients = []
    for _ in range(2):
        tenant = await new_tenant(gateway)
        key = await new_key(gateway, tenant=tenant["slug"])
        client = as_token(gateway, key["token"])
        created = await client.post("/api/v1/streams", json={"name": "orders", "partitions": 1})
        assert created.status_code == 201, created.text
        clients.append((tenant, client))
    (acme, acme_client), (other, other_client) = clients
    await set_schema(acme_client, "orders", "deadLetter")

    assert (await other_client.get("/api/v1/streams/orders/schema")).status_code == 404
    assert (await other_client.delete("/api/v1/streams/orders/schema")).status_code == 404
    free = await other_client.post("/api/v1/streams/orders/events", json={"value": BAD})
    assert free.status_code == 201, free.text
    lettered = await acme_client.post("/api/v1/streams/orders/events", json={"value": BAD})
    assert lettered.status_code == 202, lettered.text
    assert lettered.json()["stream"] == "orders.dlq"  # the tenant's own name for it

    prefix = f"_t.{acme['slug']}."
    (letter,) = await read_all(kafka_bootstrap, f"{prefix}orders.dlq", 1)
    assert headers_of(letter)["kafkagate-source-topic"] == f"{prefix}orders".encode()
    assert (await acme_client.get("/api/v1/streams/orders.dlq")).status_code == 200
    assert [orjson.loads(r.value) for r in await read_all(kafka_bootstrap, f"_t.{other['slug']}.orders", 1)] == [BAD]
    # Root sees the tenant's schema under the Kafka name; the other tenant cannot address it at all.
    assert (await gateway.get(f"/api/v1/streams/{prefix}orders/schema")).status_code == 200
    assert (await other_client.get(f"/api/v1/streams/{prefix}orders/schema")).status_code == 404


async def test_a_stream_created_again_under_a_deleted_name_starts_without_a_schema(gateway: httpx.AsyncClient) -> None:
    name = f"again-{uuid.uuid4().hex[:8]}"
    assert (await gateway.post("/api/v1/streams", json={"name": name, "partitions": 1})).status_code == 201
    await set_schema(gateway, name, "reject")
    assert (await gateway.post(f"/api/v1/streams/{name}/events", json={"value": BAD})).status_code == 422
    assert (await gateway.delete(f"/api/v1/streams/{name}")).status_code == 200
    for _ in range(50):  # topic deletion completes asynchronously in Kafka
        if (await gateway.post("/api/v1/streams", json={"name": name, "partitions": 1})).status_code == 201:
            break
        await asyncio.sleep(0.2)
    assert (await gateway.get(f"/api/v1/streams/{name}/schema")).status_code == 404
    assert (await gateway.post(f"/api/v1/streams/{name}/events", json={"value": BAD})).status_code == 201

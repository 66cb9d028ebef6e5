"""The lake API against a real broker and a real Iceberg catalog: tenant isolation, the schema lifecycle and its
composition with the class, and exactly one row per event_id (checked with DuckDB's own Iceberg reader)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from processors.lake.sink import LakeSink
from schemas.lake import LAKE_SCHEMAS_TOPIC
from tests.integration.lake.conftest import (
    CLASS,
    DuckReader,
    new_lake_tenant,
    order,
    published_dataset,
    wait_for_rows,
)

pytestmark = pytest.mark.kafka


async def test_tenants_see_only_their_own_schemas_datasets_and_previews(
    lake_gateway: httpx.AsyncClient, lake_sink: LakeSink, tenant_prefix: str, duck_reader: DuckReader
) -> None:
    a_tenant, a = await new_lake_tenant(lake_gateway, tenant_prefix)
    b_tenant, b = await new_lake_tenant(lake_gateway, tenant_prefix)
    a_schema = await published_dataset(a, "orders")
    b_schema = await published_dataset(b, "orders")  # the same slug in another tenant

    assert (await b.get(f"/v1/schemas/{a_schema['id']}")).status_code == 404
    assert [s["id"] for s in (await b.get("/v1/schemas")).json()["schemas"]] == [b_schema["id"]]
    refused = await b.post("/v1/collect", json=order("o-1", schema_id=a_schema["uri"]))
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "VALIDATION_ERROR"
    assert refused.json()["request_id"]
    assert (
        await b.post("/v1/datasets", json={"slug": "x", "name": "x", "schema_uri": a_schema["uri"]})
    ).status_code == 422

    a_orders = (await a.get("/v1/datasets/orders")).json()
    b_orders = (await b.get("/v1/datasets/orders")).json()
    assert a_orders["iceberg_namespace"] != b_orders["iceberg_namespace"]
    assert (await a.post("/v1/collect", json=order("only-a", schema_id=a_schema["id"]))).status_code == 202
    assert (await b.post("/v1/collect", json=order("only-b", schema_id=b_schema["id"]))).status_code == 202
    assert [r["order_id"] for r in await wait_for_rows(a, "orders", 1)] == ["only-a"]
    assert [r["order_id"] for r in await wait_for_rows(b, "orders", 1)] == ["only-b"]
    assert [r["order_id"] for r in await duck_reader(a_orders["iceberg_namespace"], "orders")] == ["only-a"]

    _, c = await new_lake_tenant(lake_gateway, tenant_prefix)
    missing = await c.get("/v1/datasets/orders/preview")
    assert missing.status_code == 404
    assert missing.json()["error"] == "NOT_FOUND"
    assert (await lake_gateway.get("/v1/datasets/orders")).status_code == 400  # no tenant: the call says so
    assert a_tenant["id"] != b_tenant["id"]


async def test_a_schema_is_a_draft_until_published_then_frozen(
    lake_gateway: httpx.AsyncClient, tenant_prefix: str
) -> None:
    _, client = await new_lake_tenant(lake_gateway, tenant_prefix)
    uri = f"https://example.test/schema/{uuid.uuid4().hex}"
    definition = {"type": "object", "properties": {"n": {"type": "integer"}}}
    body = {"uri": uri, "title": "N", "class_uri": CLASS, "field_group_uris": [], "definition": definition}
    draft = (await client.post("/v1/schemas", json=body)).json()
    assert draft["status"] == "draft"

    early = await client.post("/v1/datasets", json={"slug": "n", "name": "n", "schema_uri": uri})
    assert early.status_code == 422
    assert "draft" in early.json()["detail"]
    unpublished = await client.post(
        "/v1/collect", json={"schema_id": uri, "timestamp": "2026-01-01T00:00:00Z", "payload": {}}
    )
    assert unpublished.status_code == 422

    changed = await client.patch(f"/v1/schemas/{draft['id']}", json={"title": "Numbers"})
    assert changed.status_code == 200
    assert changed.json()["title"] == "Numbers"
    published = await client.patch(f"/v1/schemas/{draft['id']}", json={"status": "published"})
    assert published.json()["status"] == "published"
    assert (await client.patch(f"/v1/schemas/{draft['id']}", json={"status": "published"})).status_code == 200
    frozen = await client.patch(f"/v1/schemas/{draft['id']}", json={"title": "Other"})
    assert frozen.status_code == 409
    assert frozen.json()["error"] == "CONFLICT"
    assert (await client.get(f"/v1/schemas/{draft['id']}")).json()["title"] == "Numbers"

    _, other = await new_lake_tenant(lake_gateway, tenant_prefix)
    taken = await other.post("/v1/schemas", json=body)  # the uri is taken in the whole deployment
    assert taken.status_code == 409

    unknown_class = await client.post("/v1/schemas", json={**body, "uri": uri + "-2", "class_uri": "urn:x:none"})
    assert unknown_class.status_code == 422
    assert unknown_class.json()["errors"][0]["field"] == "class_uri"

    # The class composes with the definition: its `timestamp` must be a date-time though the definition says
    # nothing of it, and the definition's own rules hold too.
    event = {"schema_id": uri, "timestamp": "2026-01-01T00:00:00Z"}
    by_class = await client.post("/v1/collect", json={**event, "payload": {"timestamp": "yesterday", "n": 1}})
    assert by_class.status_code == 422, by_class.text
    assert [e["field"] for e in by_class.json()["errors"]] == ["/payload/timestamp"]
    by_definition = await client.post("/v1/collect", json={**event, "payload": {"n": "one"}})
    assert [e["field"] for e in by_definition.json()["errors"]] == ["/payload/n"]
    bad_time = await client.post("/v1/collect", json={**event, "timestamp": "2026-01-01", "payload": {}})
    assert bad_time.status_code == 422
    assert bad_time.json()["errors"][0]["field"] == "/timestamp"


async def test_field_groups_add_rules_and_columns(
    lake_gateway: httpx.AsyncClient, lake_sink: LakeSink, tenant_prefix: str
) -> None:
    _, client = await new_lake_tenant(lake_gateway, tenant_prefix)
    group_uri = f"https://example.test/group/{uuid.uuid4().hex}"
    group = {"type": "object", "properties": {"region": {"type": "string", "enum": ["eu", "us"]}}}
    created = await client.post(
        "/v1/schemas", json={"uri": group_uri, "title": "G", "class_uri": CLASS, "definition": group}
    )
    assert created.status_code == 201
    refused = await client.post(
        "/v1/schemas",
        json={
            "uri": group_uri + "-s",
            "title": "S",
            "class_uri": CLASS,
            "field_group_uris": [group_uri],
            "definition": {},
        },
    )
    assert refused.status_code == 422  # a field group must be published first
    await client.patch(f"/v1/schemas/{created.json()['id']}", json={"status": "published"})
    schema = await published_dataset(
        client, "regional", {"type": "object", "properties": {"order_id": {"type": "string"}}}
    )
    composed = await client.post(
        "/v1/schemas",
        json={
            "uri": group_uri + "-c",
            "title": "C",
            "class_uri": CLASS,
            "field_group_uris": [group_uri],
            "definition": {},
        },
    )
    await client.patch(f"/v1/schemas/{composed.json()['id']}", json={"status": "published"})
    await client.post("/v1/datasets", json={"slug": "grouped", "name": "g", "schema_uri": group_uri + "-c"})
    event = {"schema_id": group_uri + "-c", "timestamp": "2026-01-01T00:00:00Z"}
    assert (await client.post("/v1/collect", json={**event, "payload": {"region": "mars"}})).status_code == 422
    assert (await client.post("/v1/collect", json={**event, "payload": {"region": "eu"}})).status_code == 202
    (row,) = await wait_for_rows(client, "grouped", 1)
    assert row["region"] == "eu"
    assert schema["status"] == "draft"


async def test_the_same_event_id_twice_is_one_row(
    lake_gateway: httpx.AsyncClient, lake_sink: LakeSink, tenant_prefix: str, duck_reader: DuckReader
) -> None:
    _, client = await new_lake_tenant(lake_gateway, tenant_prefix)
    schema = await published_dataset(client, "orders")
    first = order("o-1", schema_id=schema["id"]) | {"event_id": "evt-dup"}
    assert (await client.post("/v1/collect", json=first)).status_code == 202
    assert (await client.post("/v1/collect", json=first)).status_code == 202  # the same batch
    await wait_for_rows(client, "orders", 1)
    assert (await client.post("/v1/collect", json=first)).status_code == 202  # against the table
    assert (await client.post("/v1/collect", json=order("o-2", schema_id=schema["id"]))).status_code == 202
    rows = await wait_for_rows(client, "orders", 2)
    dataset = (await client.get("/v1/datasets/orders")).json()
    read = await duck_reader(dataset["iceberg_namespace"], "orders")
    assert sorted(r["order_id"] for r in rows) == sorted(r["order_id"] for r in read) == ["o-1", "o-2"]
    assert [r["event_id"] for r in read].count("evt-dup") == 1


async def test_a_draft_edit_racing_the_publish_changes_nothing_published(
    lake_gateway: httpx.AsyncClient, tenant_prefix: str, kafka_bootstrap: str
) -> None:
    _, client = await new_lake_tenant(lake_gateway, tenant_prefix)
    uri = f"https://example.test/schema/{uuid.uuid4().hex}"
    draft = (
        await client.post("/v1/schemas", json={"uri": uri, "title": "A", "class_uri": CLASS, "definition": {}})
    ).json()
    await client.patch(f"/v1/schemas/{draft['id']}", json={"status": "published"})
    # What another gateway's draft edit, which read the draft before the publish, writes after it.
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        record = {**draft, "tenant_id": draft_tenant(client), "title": "B", "composed": {"allOf": [{}]}}
        await producer.send_and_wait(LAKE_SCHEMAS_TOPIC, orjson.dumps(record), key=draft["id"].encode())
    finally:
        await producer.stop()
    await asyncio.sleep(1.5)  # the gateway's tail reads it
    shown = (await client.get(f"/v1/schemas/{draft['id']}")).json()
    assert (shown["status"], shown["title"]) == ("published", "A")
    assert [s["title"] for s in (await client.get("/v1/schemas")).json()["schemas"]] == ["A"]


def draft_tenant(client: httpx.AsyncClient) -> str:
    return client.headers["X-Tenant-ID"]

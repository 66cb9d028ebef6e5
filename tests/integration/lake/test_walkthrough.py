"""The seed document's walkthrough end to end: tenant -> schema -> publish -> dataset -> collect -> preview, the
curl commands pasted (base URL and token added), with the sink flushing every half second instead of 30 s."""

from __future__ import annotations

import re
import uuid

import httpx
import orjson
import pytest

from processors.lake.sink import LakeSink
from tests.integration.lake.conftest import DuckReader, tenant_client, wait_for_rows
from tests.integration.lake.walkthrough import commands, curl

pytestmark = pytest.mark.kafka

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


async def test_the_documents_walkthrough(
    lake_gateway: httpx.AsyncClient, lake_sink: LakeSink, duck_reader: DuckReader, tenant_prefix: str
) -> None:
    # Tenant slugs and schema uris are unique in the whole deployment and the test broker outlives one test:
    # the document itself says to use a fresh uri (or tenant) when trying it again. Only those two change.
    fresh = {"acme": f"{tenant_prefix}acme", "orders-v1": f"orders-{uuid.uuid4().hex[:8]}"}
    tenant_step, schema_step, publish_step, dataset_step, collect_step, preview_step = commands()
    env: dict[str, str] = {}

    tenant = await curl(lake_gateway, tenant_step, env, **fresh)
    assert tenant.status_code == 201, tenant.text
    body = tenant.json()
    assert UUID.match(body["id"])
    assert (body["slug"], body["name"], body["status"], body["metadata"]) == (fresh["acme"], "Acme Corp", "active", {})
    assert body["created_at"]
    assert body["updated_at"]
    env["TENANT"] = body["id"]

    schema = await curl(lake_gateway, schema_step, env, **fresh)
    assert schema.status_code == 201, schema.text
    assert schema.json()["status"] == "draft"
    env["SCHEMA_ID"] = schema.json()["id"]
    again = await curl(lake_gateway, schema_step, env, **fresh)
    assert again.status_code == 409, again.text

    published = await curl(lake_gateway, publish_step, env, **fresh)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"

    dataset = await curl(lake_gateway, dataset_step, env, **fresh)
    assert dataset.status_code == 201, dataset.text
    described = dataset.json()
    assert described["slug"] == "orders"
    assert described["name"] == "Orders"
    assert described["status"] == "active"
    assert described["schema_uri"].endswith(fresh["orders-v1"])
    assert described["iceberg_namespace"] == "pulse_" + env["TENANT"].replace("-", "")
    assert described["iceberg_table"] == "orders"

    collected = await curl(lake_gateway, collect_step, env, **fresh)
    assert collected.status_code == 202, collected.text
    assert collected.json()["status"] == "accepted"
    event_id = collected.json()["event_id"]
    assert UUID.match(event_id)

    rows = await wait_for_rows(tenant_client(lake_gateway, env["TENANT"]), "orders", 1)
    preview = await curl(lake_gateway, preview_step, env, **fresh)
    assert preview.status_code == 200, preview.text
    (row,) = preview.json()["rows"]
    assert rows == [row]
    assert row["event_id"] == event_id
    assert row["order_id"] == "o-1001"
    assert row["amount"] == 42.5
    assert row["timestamp"].startswith("2026-05-22T14:30:00")
    assert orjson.loads(row["_payload"]) == {"order_id": "o-1001", "amount": 42.5, "timestamp": "2026-05-22T14:30:00Z"}

    # Another engine reads the same table: DuckDB's own Iceberg reader on the catalog's current metadata file.
    (read,) = await duck_reader(described["iceberg_namespace"], "orders")
    assert read["event_id"] == event_id
    assert read["order_id"] == "o-1001"
    assert read["amount"] == 42.5

"""Factories for the lake tests: an embedded lake (SQLite catalog, local warehouse) per test, gateways over it,
a lake sink running in-process, and an independent DuckDB reader of the tables."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from gateway.app import create_app
from gateway.kafka.clients import KafkaClients
from gateway.lake.preview import extension_path
from gateway.settings import Settings
from processors.lake.catalog import open_catalog
from processors.lake.settings import LakeSettings
from processors.lake.sink import LakeSink
from tests.integration.conftest import ROOT_TOKEN


@pytest.fixture
def tenant_prefix() -> str:
    """Every tenant of one test starts with this; the test's sink reads only their raw streams (the broker, and
    with it the other tests' tenants, outlives the test's lake)."""
    return f"k{uuid.uuid4().hex[:6]}"


@pytest.fixture
def lake_settings(tmp_path: Path, tenant_prefix: str) -> LakeSettings:
    return LakeSettings(
        catalog_uri=f"sqlite:///{tmp_path / 'catalog.db'}",
        warehouse=f"file://{tmp_path / 'warehouse'}",
        flush_interval_s=0.5,
        sink_group=f"lake-sink-{tenant_prefix}",
        sink_tenants=f"{tenant_prefix}[a-z0-9-]*",
    )


@pytest.fixture
async def lake_gateway(kafka_bootstrap: str, lake_settings: LakeSettings) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway app over the test's lake. ASGITransport runs no lifespan, so this closes the lake services'
    tails itself, as the lifespan would."""
    settings = Settings(bootstrap_servers=kafka_bootstrap, admin_token=ROOT_TOKEN, lake=lake_settings)
    clients = KafkaClients(settings)
    await clients.start()
    await clients.wait_ready(30)
    app = create_app(settings, kafka=clients)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"authorization": f"Bearer {ROOT_TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=60, headers=headers) as client:
        yield client
    await app.state.lake.close()
    await clients.close()


@pytest.fixture
async def lake_sink(kafka_bootstrap: str, lake_settings: LakeSettings) -> AsyncIterator[LakeSink]:
    """The lake sink, running in this event loop for the test."""
    sink = LakeSink(kafka_bootstrap, lake_settings)
    task = asyncio.create_task(sink.run())
    yield sink
    sink.request_stop()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)


def tenant_client(client: httpx.AsyncClient, tenant_id: str) -> httpx.AsyncClient:
    headers = {**client.headers, "X-Tenant-ID": tenant_id}
    return httpx.AsyncClient(transport=client._transport, base_url=client.base_url, timeout=60, headers=headers)


async def new_lake_tenant(root: httpx.AsyncClient, prefix: str) -> tuple[dict[str, Any], httpx.AsyncClient]:
    slug = f"{prefix}{uuid.uuid4().hex[:8]}"
    response = await root.post("/v1/tenants", json={"slug": slug, "name": f"Tenant {slug}"})
    assert response.status_code == 201, response.text
    tenant: dict[str, Any] = response.json()
    return tenant, tenant_client(root, tenant["id"])


ORDERS_DEFINITION = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "amount": {"type": "number"},
        "quantity": {"type": "integer"},
        "timestamp": {"type": "string", "format": "date-time"},
    },
    "required": ["order_id", "timestamp"],
}
CLASS = "https://ns.azothedge.com/pdm/class/interaction-event"


async def published_dataset(
    client: httpx.AsyncClient, slug: str = "orders", definition: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A published schema with a fresh uri and a dataset bound to it; returns the schema."""
    uri = f"https://example.test/schema/{uuid.uuid4().hex}"
    body = {"uri": uri, "title": "Orders", "class_uri": CLASS, "definition": definition or ORDERS_DEFINITION}
    created = await client.post("/v1/schemas", json=body)
    assert created.status_code == 201, created.text
    schema: dict[str, Any] = created.json()
    published = await client.patch(f"/v1/schemas/{schema['id']}", json={"status": "published"})
    assert published.status_code == 200, published.text
    dataset = await client.post("/v1/datasets", json={"slug": slug, "name": slug, "schema_uri": uri})
    assert dataset.status_code == 201, dataset.text
    return schema


def order(order_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "schema_id": extra.pop("schema_id"),
        "timestamp": "2026-05-22T14:30:00Z",
        "payload": {"order_id": order_id, "amount": 1.5, "timestamp": "2026-05-22T14:30:00Z", **extra},
    }


async def wait_for_rows(
    client: httpx.AsyncClient, slug: str, count: int, timeout_s: float = 30
) -> list[dict[str, Any]]:
    """The preview's rows once it shows at least `count` (DuckDB reading the Iceberg table)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        response = await client.get(f"/v1/datasets/{slug}/preview", params={"limit": 1000})
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()["rows"]
        if len(rows) >= count or asyncio.get_running_loop().time() > deadline:
            return rows
        await asyncio.sleep(0.3)


DuckReader = Callable[[str, str], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def duck_reader(lake_settings: LakeSettings) -> DuckReader:
    """Read a table as another engine would: its current metadata file from the catalog, then DuckDB's own
    `iceberg_scan` (the extension loaded from its PyPI package, no download), not the gateway's preview."""

    async def read(namespace: str, table: str) -> list[dict[str, Any]]:
        def run() -> list[dict[str, Any]]:
            location = open_catalog(lake_settings).load_table((namespace, table)).metadata_location
            with duckdb.connect(config={"autoinstall_known_extensions": False}) as con:
                for name in ("avro", "iceberg"):
                    con.execute(f"LOAD '{extension_path(name)}'")
                result = con.execute("SELECT * FROM iceberg_scan(?)", [location])
                names = [c[0] for c in result.description or []]
                return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

        return await asyncio.to_thread(run)

    return read

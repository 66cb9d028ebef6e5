"""A tenant's processor runs under real workers and reads and writes only the tenant's topics, lookup tables
included: two tenants run the same spec over same-named streams and each sink holds its own tenant's data."""

from __future__ import annotations

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from processors.supervisor import Supervisor
from tests.integration.conftest import read_all
from tests.integration.test_processors_runtime import await_records, producer, supervisor, wait_for
from tests.integration.test_tenants import tenant_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
__all__ = ["producer", "supervisor"]

SPEC = {
    "name": "enrich",
    "source": "tx",
    "operations": [{"type": "map", "function": "enrichWithUserData"}],  # reads the table `users` by default
    "sink": "enriched",
    "config": {"parallelism": 1, "checkpointInterval": 1000},
}


@pytest.mark.timeout(240)
async def test_same_spec_in_two_tenants_reads_and_writes_each_tenants_own_topics(
    gateway: httpx.AsyncClient, supervisor: Supervisor, producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    tenants = [await tenant_client(gateway), await tenant_client(gateway)]
    created: list[tuple[httpx.AsyncClient, str]] = []
    try:
        for tenant, client in tenants:
            for name, config in (("tx", {}), ("users", {"cleanupPolicy": "compact"})):
                made = await client.post("/api/v1/streams", json={"name": name, "partitions": 1, "config": config})
                assert made.status_code == 201, made.text
            user = {"key": "u1", "value": {"name": f"{tenant['slug']}-u1"}}
            assert (await client.post("/api/v1/streams/users/events", json=user)).status_code == 201
            response = await client.post("/api/v1/processors", json=SPEC)
            assert response.status_code == 201, response.text
            created.append((client, response.json()["processorId"]))
        for _, client in tenants:
            event = {"key": "u1", "value": {"userId": "u1", "amount": 5}}
            assert (await client.post("/api/v1/streams/tx/events", json=event)).status_code == 201
        for tenant, _ in tenants:
            sink = f"_t.{tenant['slug']}.enriched"
            await wait_for(await_records(kafka_bootstrap, sink, 1), 120, f"{tenant['slug']}'s enriched event")
            records = await read_all(kafka_bootstrap, sink, 1, timeout_s=2)
            assert [orjson.loads(r.value) for r in records] == [
                {"userId": "u1", "amount": 5, "user": {"name": f"{tenant['slug']}-u1"}}
            ]
    finally:
        for client, processor_id in created:
            await client.delete(f"/api/v1/processors/{processor_id}")

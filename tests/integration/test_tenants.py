"""Tenant isolation: two tenants with the same names see only their own, in distinct Kafka topics and groups."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.integration.conftest import GatewayFactory, read_all
from tests.integration.principals import as_token, new_key, new_tenant
from tests.integration.test_processors_api import spec

pytestmark = pytest.mark.kafka


async def tenant_client(root: httpx.AsyncClient, **key: Any) -> tuple[dict[str, Any], httpx.AsyncClient]:
    tenant = await new_tenant(root)
    made = await new_key(root, tenant=tenant["slug"], **key)
    assert made["tenant"] == tenant["id"]
    return tenant, as_token(root, made["token"])


async def test_tenants_are_created_by_root_and_found_by_id_or_slug(gateway: httpx.AsyncClient) -> None:
    slug = f"acme{uuid.uuid4().hex[:6]}"
    created = await gateway.post("/api/v1/tenants", json={"slug": slug, "name": "Acme", "metadata": {"tier": "gold"}})
    assert created.status_code == 201
    tenant = created.json()
    assert set(tenant) == {"id", "slug", "name", "status", "metadata", "created_at", "updated_at"}
    assert tenant["status"] == "active"
    assert tenant["metadata"] == {"tier": "gold"}
    assert uuid.UUID(tenant["id"]).version == 7
    assert created.headers["location"] == f"/api/v1/tenants/{tenant['id']}"
    assert (await gateway.get(f"/api/v1/tenants/{tenant['id']}")).json() == tenant
    assert (await gateway.get(f"/api/v1/tenants/{slug}")).json() == tenant
    again = await gateway.post("/api/v1/tenants", json={"slug": slug, "name": "Other"})
    assert again.status_code == 409
    assert again.json()["code"] == 1031
    bad = await gateway.post("/api/v1/tenants", json={"slug": "Bad_Slug", "name": "x"})
    assert bad.status_code == 422
    assert (await gateway.get("/api/v1/tenants/nope-nope")).status_code == 404


async def test_two_racing_creates_of_one_slug_leave_one_tenant(make_gateway: GatewayFactory) -> None:
    import asyncio

    first, second = await make_gateway(), await make_gateway()
    slug = f"race{uuid.uuid4().hex[:6]}"
    body = {"slug": slug, "name": "Race"}
    answers = await asyncio.gather(*(c.post("/api/v1/tenants", json=body) for c in (first, second, first, second)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409, 409, 409], [a.text for a in answers]
    winner = next(a.json() for a in answers if a.status_code == 201)
    for client in (first, second):
        assert (await client.get(f"/api/v1/tenants/{slug}")).json()["id"] == winner["id"]
        assert [t["id"] for t in (await client.get("/api/v1/tenants")).json()["tenants"] if t["slug"] == slug] == [
            winner["id"]
        ]


async def test_two_tenants_with_the_same_stream_see_only_their_own(
    gateway: httpx.AsyncClient, admin: AIOKafkaAdminClient, kafka_bootstrap: str
) -> None:
    (a, as_a), (b, as_b) = await tenant_client(gateway), await tenant_client(gateway)
    for client in (as_a, as_b):
        created = await client.post("/api/v1/streams", json={"name": "orders", "partitions": 1})
        assert created.status_code == 201, created.text
        assert created.json()["name"] == "orders"
        assert created.headers["location"] == "/api/v1/streams/orders"
    topics = await admin.list_topics()
    assert f"_t.{a['slug']}.orders" in topics
    assert f"_t.{b['slug']}.orders" in topics

    for client, value in ((as_a, "from-a"), (as_b, "from-b")):
        produced = await client.post("/api/v1/streams/orders/events", json={"value": value})
        assert produced.status_code == 201, produced.text
        assert produced.headers["location"].startswith("/api/v1/streams/orders/events/")
    records = await read_all(kafka_bootstrap, f"_t.{a['slug']}.orders", 1)
    assert [r.value for r in records] == [b'"from-a"'], "an independent consumer sees a's event alone in a's topic"

    for client, value in ((as_a, "from-a"), (as_b, "from-b")):
        polled = await client.get(
            "/api/v1/streams/orders/events", params={"consumerGroup": "billing", "offset": "earliest", "timeout": 5000}
        )
        assert polled.status_code == 200, polled.text
        assert [e["value"] for e in polled.json()["events"]] == [value]
        assert polled.json()["metadata"]["consumerGroup"] == "billing"
        listing = (await client.get("/api/v1/streams")).json()["streams"]
        assert [s["name"] for s in listing] == ["orders"]
        described = (await client.get("/api/v1/streams/orders")).json()
        assert described["name"] == "orders"
        assert described["totalMessages"] == 1
        groups = (await client.get("/api/v1/consumers")).json()["consumerGroups"]
        assert [g["groupId"] for g in groups] == ["billing"]
    kafka_groups = {g[0] for g in await admin.list_consumer_groups()}
    assert {f"_t.{a['slug']}.billing", f"_t.{b['slug']}.billing"} <= kafka_groups

    # Untenanted keys and other tenants cannot reach a tenant's names, even spelled as Kafka spells them.
    untenanted = as_token(gateway, (await new_key(gateway))["token"])
    for client in (untenanted, as_b):
        topic = f"_t.{a['slug']}.orders"
        assert (await client.get(f"/api/v1/streams/{topic}")).status_code == 404
        assert (await client.post(f"/api/v1/streams/{topic}/events", json={"value": 1})).status_code == 400
        assert topic not in [s["name"] for s in (await client.get("/api/v1/streams")).json()["streams"]]
        groups = [g["groupId"] for g in (await client.get("/api/v1/consumers")).json()["consumerGroups"]]
        assert f"_t.{a['slug']}.billing" not in groups
    assert (await untenanted.get(f"/api/v1/consumers/_t.{a['slug']}.billing")).status_code == 404
    reserved = await untenanted.get(
        f"/api/v1/streams/{uuid.uuid4().hex}/events", params={"consumerGroup": f"_t.{a['slug']}.billing"}
    )
    assert reserved.status_code == 400, "a poll would create the group: the prefix is reserved"
    only_a = await as_a.get(
        "/api/v1/streams/orders/events", params={"consumerGroup": "only-a", "offset": "earliest", "timeout": 0}
    )
    assert only_a.status_code == 200
    assert (await as_b.get("/api/v1/consumers/only-a")).status_code == 404
    assert (await as_b.delete("/api/v1/consumers/only-a")).status_code == 404


async def test_another_tenants_resources_answer_404(gateway: httpx.AsyncClient) -> None:
    (a, as_a), (b, as_b) = await tenant_client(gateway), await tenant_client(gateway)
    assert (await as_a.post("/api/v1/streams", json={"name": "src", "partitions": 1})).status_code == 201
    processor = await as_a.post("/api/v1/processors", json=spec("src", name="alerts", sink="alerts-out"))
    assert processor.status_code == 201, processor.text
    body = processor.json()
    assert body["name"] == "alerts"
    assert body["spec"]["source"] == "src"
    assert body["spec"]["sink"] == "alerts-out"
    assert body["topics"]["dlq"] == "alerts.dlq"
    processor_id = body["processorId"]
    assert (await as_a.get("/api/v1/streams/alerts-out")).status_code == 200, "the sink lives in a's namespace"

    assert (await as_b.get(f"/api/v1/processors/{processor_id}")).status_code == 404
    assert (await as_b.get(f"/api/v1/processors/{processor_id}/metrics")).status_code == 404
    assert (await as_b.delete(f"/api/v1/processors/{processor_id}")).status_code == 404
    assert (await as_b.get("/api/v1/processors")).json()["processors"] == []
    assert (await as_b.get("/api/v1/streams/src")).status_code == 404
    assert (await as_b.get(f"/api/v1/tenants/{a['id']}")).status_code == 404
    assert [t["id"] for t in (await as_b.get("/api/v1/tenants")).json()["tenants"]] == [b["id"]]
    a_keys = (await as_a.get("/api/v1/keys")).json()["keys"]
    assert a_keys
    assert (await as_b.get(f"/api/v1/keys/{a_keys[0]['keyId']}")).status_code == 404
    assert all(k["tenant"] == b["id"] for k in (await as_b.get("/api/v1/keys")).json()["keys"])
    other_tenant_key = await as_b.post("/api/v1/keys", json={"name": "x", "scopes": ["produce"], "tenant": a["id"]})
    assert other_tenant_key.status_code == 404
    # A tenant cannot name its way into another tenant's data through a processor's streams either.
    sneaky = await as_b.post("/api/v1/processors", json=spec(f"_t.{a['slug']}.src"))
    assert sneaky.status_code == 422
    assert (await as_a.get("/api/v1/processors")).json()["processors"][0]["name"] == "alerts"
    assert (await gateway.get(f"/api/v1/processors/{processor_id}")).json()["name"] == f"_t.{a['slug']}.alerts"


async def test_root_acts_for_a_tenant_with_x_tenant_id(gateway: httpx.AsyncClient) -> None:
    a, as_a = await tenant_client(gateway)
    assert (await as_a.post("/api/v1/streams", json={"name": "clicks", "partitions": 1})).status_code == 201
    for handle in (a["id"], a["slug"]):
        acting = as_token(gateway, None, **{"x-tenant-id": handle, "authorization": gateway.headers["authorization"]})
        names = [s["name"] for s in (await acting.get("/api/v1/streams")).json()["streams"]]
        assert names == ["clicks"]
    unknown = as_token(gateway, None, **{"x-tenant-id": "no-such", "authorization": gateway.headers["authorization"]})
    missing = await unknown.get("/api/v1/streams")
    assert missing.status_code == 404
    assert missing.json()["code"] == 1029
    b = await new_tenant(gateway)
    crossing = as_token(as_a, None, **{"x-tenant-id": b["id"], "authorization": as_a.headers["authorization"]})
    assert (await crossing.get("/api/v1/streams")).status_code == 404, "a tenant key cannot act for another tenant"
    own = as_token(as_a, None, **{"x-tenant-id": a["slug"], "authorization": as_a.headers["authorization"]})
    assert (await own.get("/api/v1/streams")).status_code == 200


async def test_an_open_gateway_still_scopes_requests_to_the_tenant_in_x_tenant_id(
    make_gateway: GatewayFactory,
) -> None:
    open_gateway = await make_gateway(auth="off", token=None)
    tenant = await new_tenant(open_gateway)
    scoped = as_token(open_gateway, None, **{"x-tenant-id": tenant["slug"]})
    assert (await scoped.post("/api/v1/streams", json={"name": "events", "partitions": 1})).status_code == 201
    assert [s["name"] for s in (await scoped.get("/api/v1/streams")).json()["streams"]] == ["events"]
    everything = [
        s["name"] for s in (await open_gateway.get("/api/v1/streams", params={"limit": 1000})).json()["streams"]
    ]
    assert f"_t.{tenant['slug']}.events" in everything


async def test_metadata_json_cannot_carry_is_refused_and_nothing_is_created(
    gateway: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    """Found by schemathesis: an integer beyond 64 bits in metadata was stored, then the response failed to
    render (500), and every later tenant listing failed with it."""
    for number in (str(2**64), "1e400", "NaN"):
        slug = f"big{uuid.uuid4().hex[:6]}"
        body = b'{"slug": "%s", "name": "Big", "metadata": {"n": [%s]}}' % (slug.encode(), number.encode())
        response = await gateway.post("/api/v1/tenants", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "/metadata/n/0"
        assert (await gateway.get(f"/api/v1/tenants/{slug}")).status_code == 404
    listed = await gateway.get("/api/v1/tenants")
    assert listed.status_code == 200, listed.text
    stored = await read_all(kafka_bootstrap, "_kafkagate_tenants", 10**9, timeout_s=2)
    assert not [r for r in stored if r.value is not None and b'"Big"' in r.value]

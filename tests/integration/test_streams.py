"""Stream admin through the gateway, checked against Kafka's own view via a separate admin client."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

pytestmark = pytest.mark.kafka


async def topic_configs(admin: AIOKafkaAdminClient, name: str) -> dict[str, str]:
    (response,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    (resource,) = response.to_object()["resources"]
    return {e["config_names"]: e["config_value"] for e in resource["config_entries"]}


async def test_admin_round_trip(gateway: httpx.AsyncClient, admin: AIOKafkaAdminClient) -> None:
    name = f"orders-{uuid.uuid4().hex[:8]}"
    create = {
        "name": name,
        "partitions": 4,
        "replicationFactor": 1,
        "config": {"retentionMs": 604800000, "compressionType": "gzip", "maxMessageBytes": 524288},
    }
    response = await gateway.post("/api/v1/streams", json=create)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/v1/streams/{name}"
    created = response.json()
    assert created["name"] == name
    assert created["partitions"] == 4
    assert created["replicationFactor"] == 1
    assert created["config"]["retentionMs"] == 604800000
    assert created["config"]["compressionType"] == "gzip"
    assert created["config"]["maxMessageBytes"] == 524288

    kafka_side = await topic_configs(admin, name)
    assert kafka_side["retention.ms"] == "604800000"
    assert kafka_side["compression.type"] == "gzip"
    assert kafka_side["max.message.bytes"] == "524288"

    again = await gateway.post("/api/v1/streams", json=create)
    assert again.status_code == 409
    assert again.json()["code"] == 1008

    for i in range(6):
        await gateway.post(f"/api/v1/streams/{name}/events", json={"key": f"k{i}", "value": {"i": i}})
    described = (await gateway.get(f"/api/v1/streams/{name}")).json()
    assert described["totalMessages"] == 6
    assert described["totalSize"] > 0
    details = described["partitionDetails"]
    assert [d["partition"] for d in details] == [0, 1, 2, 3]
    assert sum(d["endOffset"] - d["startOffset"] for d in details) == 6
    assert all(d["leader"] == "broker-1" and d["replicas"] == ["broker-1"] for d in details)

    patch = {"partitions": 6, "config": {"retentionMs": 3600000, "cleanupPolicy": "compact,delete"}}
    response = await gateway.patch(f"/api/v1/streams/{name}", json=patch)
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["partitions"] == 6
    assert patched["config"]["retentionMs"] == 3600000
    assert patched["config"]["compressionType"] == "gzip", "a patch keeps the configs it does not name"
    kafka_side = await topic_configs(admin, name)
    assert kafka_side["retention.ms"] == "3600000"
    assert kafka_side["cleanup.policy"] == "compact,delete"
    assert kafka_side["max.message.bytes"] == "524288"

    shrink = await gateway.patch(f"/api/v1/streams/{name}", json={"partitions": 2})
    assert shrink.status_code == 400
    assert shrink.json()["code"] == 1014

    listing = (await gateway.get("/api/v1/streams", params={"limit": 1000})).json()
    names = [s["name"] for s in listing["streams"]]
    assert name in names
    assert "__consumer_offsets" in names, "the root credential sees internal topics (other keys do not)"

    deleted = await gateway.delete(f"/api/v1/streams/{name}")
    assert deleted.status_code == 200
    assert deleted.json()["status"] == "deleted"
    assert deleted.json()["streamName"] == name
    gone = await gateway.get(f"/api/v1/streams/{name}")
    assert gone.status_code == 404
    assert gone.json()["code"] == 1001
    assert name not in await admin.list_topics()


async def test_list_paginates(gateway: httpx.AsyncClient, new_stream: Callable[..., Awaitable[str]]) -> None:
    for _ in range(3):
        await new_stream(partitions=1)
    seen: list[str] = []
    after = ""
    while True:
        page = (await gateway.get("/api/v1/streams", params={"limit": 2, "after": after})).json()
        assert len(page["streams"]) <= 2
        seen.extend(s["name"] for s in page["streams"])
        if page["nextAfter"] is None:
            break
        after = page["nextAfter"]
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) >= 3


async def test_a_stream_needing_more_in_sync_replicas_than_it_has_is_refused(
    gateway: httpx.AsyncClient, new_stream: Callable[..., Awaitable[str]]
) -> None:
    """Found by schemathesis: `minInsyncReplicas` 5528 on one replica made a stream whose every write was a 503."""
    name = f"isr-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "replicationFactor": 1, "config": {"minInsyncReplicas": 2}}
    refused = await gateway.post("/api/v1/streams", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "config.minInsyncReplicas"
    assert (await gateway.get(f"/api/v1/streams/{name}")).status_code == 404  # nothing was created

    stream = await new_stream(partitions=1)
    patched = await gateway.patch(f"/api/v1/streams/{stream}", json={"config": {"minInsyncReplicas": 2}})
    assert patched.status_code == 422, patched.text
    fine = await gateway.patch(f"/api/v1/streams/{stream}", json={"config": {"minInsyncReplicas": 1}})
    assert fine.status_code == 200, fine.text

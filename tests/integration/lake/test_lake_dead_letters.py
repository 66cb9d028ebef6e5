"""Events the lake cannot write go to the tenant's dead-letter stream with the reason in headers, read back here
with a plain Kafka consumer, and the events after them in the same partition still land in the table."""

from __future__ import annotations

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from processors.lake.sink import LakeSink
from tests.integration.conftest import read_all
from tests.integration.lake.conftest import new_lake_tenant, order, published_dataset, wait_for_rows

pytestmark = pytest.mark.kafka


async def test_unwritable_events_are_dead_lettered_and_do_not_block(
    lake_gateway, lake_sink: LakeSink, tenant_prefix: str, kafka_bootstrap: str
) -> None:
    tenant, client = await new_lake_tenant(lake_gateway, tenant_prefix)
    schema = await published_dataset(client, "orders")
    draft = await client.post(
        "/v1/schemas",
        json={"uri": schema["uri"] + "-draft", "title": "d", "class_uri": schema["class_uri"], "definition": {}},
    )
    raw = f"_t.{tenant['slug']}.events.raw"
    event = {"event_id": "e", "timestamp": "2026-01-01T00:00:00Z", "received_at": "2026-01-01T00:00:00Z"}
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        # Written past the gateway (the tenant's raw stream is an ordinary stream to its keys), all to partition 0.
        for value in (
            b"not json",
            orjson.dumps({**event, "schema_id": "no-such-schema", "schema_uri": "x", "payload": {}}),
            orjson.dumps({**event, "schema_id": draft.json()["id"], "schema_uri": "x", "payload": {}}),
            orjson.dumps({**event, "schema_id": schema["id"], "schema_uri": schema["uri"], "payload": {"amount": "x"}}),
        ):
            await producer.send_and_wait(raw, value, key=b"k", partition=0)
    finally:
        await producer.stop()
    # Valid for the schema (an integer) and as JSON (orjson reads up to 2**64 - 1), but more than a long holds.
    too_big = await client.post("/v1/collect", json=order("big", schema_id=schema["id"], quantity=2**63))
    assert too_big.status_code == 202, too_big.text
    fine = await client.post("/v1/collect", json=order("fine", schema_id=schema["id"]))
    assert fine.status_code == 202

    rows = await wait_for_rows(client, "orders", 1)
    assert [r["order_id"] for r in rows] == ["fine"]
    letters = await read_all(kafka_bootstrap, raw + ".dlq", 5)
    assert len(letters) == 5
    reasons = []
    for letter in letters:
        headers = {name: value.decode() for name, value in letter.headers}
        assert headers["kafkagate-reason"] == "lake"
        assert headers["kafkagate-source-topic"] == raw
        assert int(headers["kafkagate-source-offset"]) >= 0
        reasons.append(headers["kafkagate-error"])
    joined = "\n".join(reasons)
    assert "not a raw event" in joined
    assert "unknown schema 'no-such-schema'" in joined
    assert "is not published" in joined
    assert "breaks schema" in joined
    assert "column quantity" in joined
    assert "64-bit" in joined
    assert b"not json" in [letter.value for letter in letters]  # the event bytes, as they were

"""The Streaming Ingest API (seed 001) against a real broker. What landed is read back with a plain aiokafka
consumer; stream ids are checked against a hand-encoded Metadata request (tests/integration/kafka_wire.py)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import jsonschema
import orjson
import pytest

from gateway.openapi import build_openapi
from gateway.seeds.ingest_events import TIMESTAMP_DETAIL
from processors.supervisor import Supervisor
from tests.integration import test_processors_runtime as runtime
from tests.integration.conftest import GatewayFactory, read_all
from tests.integration.kafka_wire import topic_id
from tests.integration.principals import as_token, new_key, new_tenant

pytestmark = pytest.mark.kafka

# A real supervisor with Faust workers, and processors deleted after each test (from test_processors_runtime).
supervisor = runtime.supervisor
create = runtime.create

INGEST = "/v1/streams/ingest"

# The document's request body, pasted as it stands there.
DOCUMENT_EVENT = b"""{
"timestamp": "2025-02-12T14:32:15Z",
"source": "payments-app",
"event": {
"transactionId": "txn_30921",
"status": "approved",
"latency_ms": 182,
"amount": 499,
"currency": "USD"
},
"metadata": {
"env": "prod",
"team": "payments"
}
}"""


def headers(token: str, stream_id: str) -> dict[str, str]:
    """The document's curl example: -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json"
    -H "X-Stream-Id: $STREAM_ID"."""
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "X-Stream-Id": stream_id}


def bearer(client: httpx.AsyncClient) -> str:
    return client.headers["authorization"].removeprefix("Bearer ")


async def create_stream(client: httpx.AsyncClient, partitions: int = 3) -> dict[str, Any]:
    name = f"ingest-{uuid.uuid4().hex[:10]}"
    response = await client.post("/api/v1/streams", json={"name": name, "partitions": partitions})
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


def assert_documented(body: Any, schema: str) -> None:
    """`body` matches the OpenAPI document's component `schema`."""
    spec = build_openapi("test")
    jsonschema.validate(body, {**spec["components"]["schemas"][schema], "components": spec["components"]})


def assert_envelope(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["error"] == error
    assert_documented(body, "IngestError")
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert set(body) <= {"error", "detail", "index"}
    assert response.headers["x-request-id"]
    return body


async def test_the_documents_example_is_accepted_and_lands_as_sent(gateway: httpx.AsyncClient) -> None:
    stream = await create_stream(gateway)
    before_ms = int(time.time() * 1000)
    # curl -X POST "https://api.example.com/v1/streams/ingest" ... -d @event.json
    response = await gateway.post(INGEST, headers=headers(bearer(gateway), stream["streamId"]), content=DOCUMENT_EVENT)
    after_ms = int(time.time() * 1000)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "status": "accepted",
        "ingested_bytes": len(DOCUMENT_EVENT),
        "stream_id": stream["streamId"],
    }

    assert_documented(response.json(), "IngestAccepted")

    (record,) = await read_all(gateway_bootstrap(gateway), stream["name"], 1)
    assert orjson.loads(record.value) == orjson.loads(DOCUMENT_EVENT)
    assert list(orjson.loads(record.value)) == ["timestamp", "source", "event", "metadata"]
    assert record.key == b"payments-app"
    assert before_ms <= record.timestamp <= after_ms  # receive time: the 2025 event time would expire at once
    assert dict(record.headers)["x-request-id"] == response.headers["x-request-id"].encode()


def gateway_bootstrap(client: httpx.AsyncClient) -> str:
    bootstrap: str = client._transport.app.state.gateway.settings.bootstrap_servers  # type: ignore[attr-defined]
    return bootstrap


async def test_stream_id_is_the_topic_id_kafka_reports_on_every_stream_document(
    gateway: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    created = await create_stream(gateway)
    name, stream_id = created["name"], created["streamId"]
    assert stream_id == str(await topic_id(kafka_bootstrap, name))
    assert_documented(created, "StreamDocument")
    described = (await gateway.get(f"/api/v1/streams/{name}")).json()
    assert described["streamId"] == stream_id
    assert_documented(described, "StreamDocument")
    listing = (await gateway.get("/api/v1/streams", params={"limit": 1000})).json()
    assert_documented(listing, "StreamList")
    assert {"name": name, "streamId": stream_id} in listing["streams"]

    # Deleted and created again under the same name: a new topic, so a new id, and the old id names nothing.
    assert (await gateway.delete(f"/api/v1/streams/{name}")).status_code == 200
    again = await gateway.post("/api/v1/streams", json={"name": name, "partitions": 1})
    assert again.status_code == 201, again.text
    renewed = again.json()["streamId"]
    assert renewed != stream_id
    assert renewed == str(await topic_id(kafka_bootstrap, name))
    old = await gateway.post(INGEST, headers=headers(bearer(gateway), stream_id), content=DOCUMENT_EVENT)
    assert_envelope(old, 404, "not_found")


async def test_ingest_by_name_and_by_id_and_an_array_lands_every_event(
    gateway: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    stream = await create_stream(gateway)
    token = bearer(gateway)
    batch = [
        {"timestamp": f"2026-01-15T10:30:0{i}.123+01:00", "source": f"svc-{i % 3}", "event": {"n": i}, "x": [i]}
        for i in range(7)
    ]
    body = orjson.dumps(batch, option=orjson.OPT_INDENT_2)
    by_id = await gateway.post(INGEST, headers=headers(token, stream["streamId"]), content=body)
    assert by_id.status_code == 200, by_id.text
    assert by_id.json() == {"status": "accepted", "ingested_bytes": len(body), "stream_id": stream["streamId"]}
    single = {"source": "svc-9", "event": {"n": 99}}  # timestamp may be left out
    by_name = await gateway.post(INGEST, headers=headers(token, stream["name"]), content=orjson.dumps(single))
    assert by_name.status_code == 200, by_name.text
    assert by_name.json()["stream_id"] == stream["streamId"]

    records = await read_all(kafka_bootstrap, stream["name"], 8)
    assert len(records) == 8
    assert sorted((orjson.loads(r.value) for r in records), key=lambda v: v["event"]["n"]) == [*batch, single]
    assert {r.key for r in records} == {b"svc-0", b"svc-1", b"svc-2", b"svc-9"}
    for record in records:
        assert record.key == orjson.loads(record.value)["source"].encode()


async def test_each_documented_error_gives_the_documented_envelope(
    gateway: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    stream = await create_stream(gateway)
    sent = headers(bearer(gateway), stream["streamId"])

    async def post(content: bytes) -> httpx.Response:
        return await gateway.post(INGEST, headers=sent, content=content)

    invalid_json = assert_envelope(await post(b'{"source": "a", "event": {'), 400, "invalid_format")
    assert "JSON" in invalid_json["detail"]
    bad_time = orjson.loads(DOCUMENT_EVENT) | {"timestamp": "12/02/2025 14:32"}
    assert assert_envelope(await post(orjson.dumps(bad_time)), 400, "invalid_format") == {
        "error": "invalid_format",
        "detail": TIMESTAMP_DETAIL,
    }
    for field in ("source", "event"):
        missing = {k: v for k, v in orjson.loads(DOCUMENT_EVENT).items() if k != field}
        body = assert_envelope(await post(orjson.dumps(missing)), 400, "invalid_format")
        assert f"'{field}'" in body["detail"]
    in_array = [orjson.loads(DOCUMENT_EVENT), {"source": "x", "event": {}, "timestamp": "2025-02-30T00:00:00Z"}]
    assert assert_envelope(await post(orjson.dumps(in_array)), 400, "invalid_format") == {
        "error": "invalid_format",
        "detail": TIMESTAMP_DETAIL,
        "index": 1,
    }

    limit = 1024 * 1024
    padding = b" " * (limit + 1 - len(DOCUMENT_EVENT))
    oversize = DOCUMENT_EVENT + padding
    assert len(oversize) == limit + 1
    assert_envelope(await post(oversize), 400, "invalid_format")
    at_limit = await post(DOCUMENT_EVENT + padding[1:])  # exactly the limit: whitespace is fine JSON
    assert at_limit.status_code == 200, at_limit.text
    assert at_limit.json()["ingested_bytes"] == limit

    unauthenticated = as_token(gateway, None)
    without = {name: value for name, value in sent.items() if name != "Authorization"}
    no_token = await unauthenticated.post(INGEST, headers=without, content=DOCUMENT_EVENT)
    assert assert_envelope(no_token, 401, "unauthorized")
    assert no_token.headers["www-authenticate"].startswith("Bearer")
    wrong = await gateway.post(INGEST, headers={**sent, "Authorization": "Bearer kg_nope"}, content=DOCUMENT_EVENT)
    assert_envelope(wrong, 401, "unauthorized")

    # Nothing refused reached Kafka: only the one at the limit.
    assert len(await read_all(kafka_bootstrap, stream["name"], 1)) == 1


async def test_over_quota_is_429_rate_limited_with_retry_after(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(rate_limit_requests_per_s=2)
    sent = headers(bearer(gateway), str(uuid.uuid4()))
    answers = []
    for _ in range(20):  # the bucket holds 2 and refills at 2/s: a burst of 20 meets the limit whatever the pace
        answers.append(await gateway.post(INGEST, headers=sent, content=DOCUMENT_EVENT))
        if answers[-1].status_code == 429:
            break
    assert answers[0].status_code == 404
    refused = answers[-1]
    assert_envelope(refused, 429, "rate_limited")
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-policy"].startswith('"default";q=2')


async def test_unknown_and_foreign_stream_ids_are_404_and_excluded_streams_403(gateway: httpx.AsyncClient) -> None:
    root = gateway
    tenant_a, tenant_b = await new_tenant(root), await new_tenant(root)
    key_a = await new_key(root, tenant=tenant_a["slug"])
    key_b = await new_key(root, tenant=tenant_b["slug"], scopes=["produce", "admin"])
    as_a, as_b = as_token(root, key_a["token"]), as_token(root, key_b["token"])
    stream_a = await create_stream(as_a)
    own = await as_a.post(INGEST, headers=headers(key_a["token"], stream_a["streamId"]), content=DOCUMENT_EVENT)
    assert own.status_code == 200, own.text

    unknown = await as_a.post(INGEST, headers=headers(key_a["token"], str(uuid.uuid4())), content=DOCUMENT_EVENT)
    assert_envelope(unknown, 404, "not_found")
    for reference in (stream_a["streamId"], stream_a["name"], f"_t.{tenant_a['slug']}.{stream_a['name']}"):
        foreign = await as_b.post(INGEST, headers=headers(key_b["token"], reference), content=DOCUMENT_EVENT)
        assert_envelope(foreign, 404, "not_found")
    # The untenanted root credential sees tenants' topics only as internal ones, and never writes to those.
    by_root = await root.post(INGEST, headers=headers(bearer(root), stream_a["streamId"]), content=DOCUMENT_EVENT)
    assert_envelope(by_root, 404, "not_found")

    narrow = await new_key(as_a, scopes=["produce"], streams=["orders.*"])
    excluded = await as_a.post(INGEST, headers=headers(narrow["token"], stream_a["streamId"]), content=DOCUMENT_EVENT)
    assert_envelope(excluded, 403, "forbidden")
    consume_only = await new_key(as_a, scopes=["consume"])
    no_scope = await as_a.post(INGEST, headers=headers(consume_only["token"], stream_a["name"]), content=DOCUMENT_EVENT)
    assert_envelope(no_scope, 403, "forbidden")


async def test_routes_and_methods_under_the_path_answer_in_its_envelope(gateway: httpx.AsyncClient) -> None:
    assert_envelope(await gateway.get(INGEST), 405, "method_not_allowed")
    stream = await create_stream(gateway, partitions=1)
    missing_header = await gateway.post(INGEST, headers={"content-type": "application/json"}, content=DOCUMENT_EVENT)
    assert "X-Stream-Id" in assert_envelope(missing_header, 400, "invalid_format")["detail"]
    as_text = await gateway.post(
        INGEST, headers={"content-type": "text/plain", "x-stream-id": stream["name"]}, content=DOCUMENT_EVENT
    )
    assert_envelope(as_text, 400, "invalid_format")


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_events_ingested_are_masked_filtered_sampled_and_routed_by_a_processor(
    gateway: httpx.AsyncClient, supervisor: Supervisor, create: runtime.Create
) -> None:
    suffix = uuid.uuid4().hex[:8]
    stream = await create_stream(gateway, partitions=2)
    high, normal = f"payments-high-{suffix}", f"payments-normal-{suffix}"
    processor_id = await create(
        {
            "name": f"payments-pipeline-{suffix}",
            "source": stream["name"],
            "operations": [
                {"type": "filter", "predicate": "value.metadata.env == 'prod'"},
                {"type": "map", "function": "maskFields", "args": {"fields": ["event.cardNumber"], "keepLast": 4}},
                {"type": "sample", "rate": 0.5, "byKey": True},
                {
                    "type": "route",
                    "cases": [{"predicate": "value.event.amount >= 1000", "sink": high}],
                    "default": normal,
                },
            ],
            "config": {"parallelism": 1, "checkpointInterval": 1000},
        }
    )

    sources = [f"pos-{n}" for n in range(10)]
    amounts_and_envs = [(100, "prod"), (2500, "prod"), (700, "dev"), (1500, "prod")]
    sent = 0
    for source in sources:
        batch = [
            {
                "timestamp": "2025-02-12T14:32:15Z",
                "source": source,
                "event": {"transactionId": f"txn_{source}_{i}", "amount": amount, "cardNumber": "4111111111111111"},
                "metadata": {"env": env, "team": "payments"},
            }
            for i, (amount, env) in enumerate(amounts_and_envs)
        ]
        response = await gateway.post(
            INGEST, headers=headers(bearer(gateway), stream["streamId"]), content=orjson.dumps(batch)
        )
        assert response.status_code == 200, response.text
        sent += len(batch)

    async def all_processed() -> bool:
        metrics = (await gateway.get(f"/api/v1/processors/{processor_id}/metrics")).json()["metrics"]
        return bool(metrics["eventsProcessed"] >= sent and metrics["lag"] == 0)

    await runtime.wait_for(all_processed, 180, "the processor to read every ingested event")
    bootstrap = gateway_bootstrap(gateway)
    routed = {sink: await read_all(bootstrap, sink, sent, timeout_s=3) for sink in (high, normal)}

    delivered: dict[str, set[int]] = {source: set() for source in sources}
    for sink, records in routed.items():
        for record in records:
            assert b"4111111111111111" not in record.value
            value = orjson.loads(record.value)
            assert value["event"]["cardNumber"] == "****1111"
            assert value["metadata"]["env"] == "prod"
            assert record.key == value["source"].encode()
            assert (value["event"]["amount"] >= 1000) == (sink == high)
            assert value["event"]["amount"] not in delivered[value["source"]], "each event is routed once"
            delivered[value["source"]].add(value["event"]["amount"])
    kept = [source for source, amounts in delivered.items() if amounts]
    # Sampling by key keeps all of a source's events or none of them; 0.5 of ten sources keeps some, not all.
    assert all(delivered[source] == {100, 2500, 1500} for source in kept)
    assert 0 < len(kept) < len(sources)
    assert len(routed[high]) == 2 * len(kept)
    assert len(routed[normal]) == len(kept)

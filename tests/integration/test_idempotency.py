"""Idempotency keys against a real broker: what landed is counted by a plain aiokafka consumer, not the gateway."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from gateway.authentication import ROOT
from tests.integration.conftest import GatewayFactory, read_all
from tests.integration.consuming import close_sessions, committed_in_kafka, drain, new_group, produce_json
from tests.integration.dead_owner import DeadOwner, plant_dead_owner
from tests.integration.test_metrics import scrape

pytestmark = pytest.mark.kafka

NewStream = Callable[..., Awaitable[str]]
JSON = {"content-type": "application/json"}


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


def keyed(key: str | bytes) -> dict[str, Any]:
    return {"Idempotency-Key": key}


def assert_replay_of(first: httpx.Response, again: httpx.Response) -> None:
    assert again.status_code == first.status_code, again.text
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers.get("location") == first.headers.get("location")
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers


async def until_settled(
    gateway: httpx.AsyncClient, url: str, body: Any, key: str, limit_s: float = 20
) -> httpx.Response:
    """Retry while the key is in use (409); the first other answer."""
    deadline = asyncio.get_running_loop().time() + limit_s
    while True:
        response = await gateway.post(url, json=body, headers=keyed(key))
        if response.status_code != 409 or asyncio.get_running_loop().time() > deadline:
            return response
        assert response.json()["code"] == 1025
        assert int(response.headers["retry-after"]) >= 1
        await asyncio.sleep(0.05)


async def test_single_produce_replays_byte_identical_and_lands_once(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=3)
    url, key = f"/api/v1/streams/{stream}/events", new_key()
    body = {"key": "user-1", "value": {"n": 1}}
    first = await gateway.post(url, json=body, headers=keyed(key))
    assert first.status_code == 201, first.text
    for _ in range(3):
        assert_replay_of(first, await gateway.post(url, json=body, headers=keyed(key)))

    records = await read_all(kafka_bootstrap, stream, 1)
    assert len(records) == 1
    (record,) = records
    assert (record.partition, record.offset) == (first.json()["partition"], first.json()["offset"])
    assert dict(record.headers)["idempotency-key"] == key.encode()


async def test_batch_replays_byte_identical_and_lands_once(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=2)
    url, key = f"/api/v1/streams/{stream}/events/batch", new_key()
    body = {"events": [{"key": f"k{i}", "value": i} for i in range(5)]}
    first = await gateway.post(url, json=body, headers=keyed(key))
    assert first.status_code == 200, first.text
    assert_replay_of(first, await gateway.post(url, json=body, headers=keyed(key)))

    records = await read_all(kafka_bootstrap, stream, 5)
    assert sorted(orjson.loads(r.value) for r in records) == list(range(5))
    assert {dict(r.headers)["idempotency-key"] for r in records} == {key.encode()}


async def test_commit_replay_commits_nothing_again(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=1)
    await produce_json(kafka_bootstrap, stream, range(6))
    group, gateway = new_group(), await make_gateway()
    await drain(gateway, stream, group, 6, offset="earliest")
    assert await close_sessions(gateway, group) == 1
    url, key = f"/api/v1/consumers/{group}/commit", new_key()
    body = {"offsets": [{"stream": stream, "partition": 0, "offset": 3}]}
    first = await gateway.post(url, json=body, headers=keyed(key))
    assert first.status_code == 200, first.text
    later = {"offsets": [{"stream": stream, "partition": 0, "offset": 5}]}
    assert (await gateway.post(url, json=later)).status_code == 200

    assert_replay_of(first, await gateway.post(url, json=body, headers=keyed(key)))
    assert await committed_in_kafka(admin, group, stream) == {0: 5}  # the replay did not commit 3 again


async def test_stream_create_replays_instead_of_conflicting(gateway: httpx.AsyncClient) -> None:
    key, body = new_key(), {"name": f"idem-{uuid.uuid4().hex[:10]}", "partitions": 2}
    first = await gateway.post("/api/v1/streams", json=body, headers=keyed(key))
    assert first.status_code == 201, first.text
    assert_replay_of(first, await gateway.post("/api/v1/streams", json=body, headers=keyed(key)))
    assert (await gateway.post("/api/v1/streams", json=body)).json()["code"] == 1008  # it exists, once


async def test_processor_create_replays_the_same_processor(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    source = await new_stream(partitions=1)
    key = new_key()
    body = {
        "name": f"proc-{uuid.uuid4().hex[:10]}",
        "source": source,
        "operations": [{"type": "filter", "predicate": "value.amount > 1000"}],
        "sink": f"sink-{uuid.uuid4().hex[:10]}",
    }
    first = await gateway.post("/api/v1/processors", json=body, headers=keyed(key))
    assert first.status_code == 201, first.text
    assert_replay_of(first, await gateway.post("/api/v1/processors", json=body, headers=keyed(key)))
    listed = (await gateway.get("/api/v1/processors")).json()["processors"]
    assert [p["processorId"] for p in listed if p["name"] == body["name"]] == [first.json()["processorId"]]


async def test_same_key_with_another_request_is_422(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    stream, other = await new_stream(), await new_stream()
    key = new_key()
    first = await gateway.post(f"/api/v1/streams/{stream}/events", json={"value": 1}, headers=keyed(key))
    assert first.status_code == 201, first.text
    for url, body in [
        (f"/api/v1/streams/{stream}/events", {"value": 2}),
        (f"/api/v1/streams/{other}/events", {"value": 1}),
        (f"/api/v1/streams/{stream}/events/batch", {"events": [{"value": 1}]}),
    ]:
        response = await gateway.post(url, json=body, headers=keyed(key))
        assert response.status_code == 422, response.text
        assert response.json()["code"] == 1024
        assert response.json()["error"] == "IDEMPOTENCY_KEY_REUSED"


@pytest.mark.parametrize("key", [b"", b"x" * 256, "clé".encode(), b"tab\there"], ids=["empty", "256", "utf8", "tab"])
async def test_malformed_key_is_400(gateway: httpx.AsyncClient, new_stream: NewStream, key: bytes) -> None:
    stream = await new_stream()
    response = await gateway.post(f"/api/v1/streams/{stream}/events", json={"value": 1}, headers=keyed(key))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1026
    assert response.json()["error"] == "INVALID_IDEMPOTENCY_KEY"


async def test_longest_key_with_inner_spaces_is_accepted(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    stream = await new_stream()
    key = (f"{uuid.uuid4().hex} ~" * 8)[:255]  # unique: the broker may outlive this test run
    response = await gateway.post(f"/api/v1/streams/{stream}/events", json={"value": 1}, headers=keyed(key))
    assert response.status_code == 201, response.text


async def test_a_refused_request_is_not_stored_and_a_corrected_retry_runs(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=3)
    url, key = f"/api/v1/streams/{stream}/events", new_key()
    refused = await gateway.post(url, json={"value": None}, headers=keyed(key))  # a tombstone needs a key
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == 1007
    missing = await gateway.post("/api/v1/streams/no-such-stream-here/events", json={"value": 1}, headers=keyed(key))
    assert missing.status_code == 404, missing.text

    corrected = await gateway.post(url, json={"key": "k", "value": None}, headers=keyed(key))
    assert corrected.status_code == 201, corrected.text
    assert_replay_of(corrected, await gateway.post(url, json={"key": "k", "value": None}, headers=keyed(key)))
    assert len(await read_all(kafka_bootstrap, stream, 1)) == 1


async def test_a_repeat_while_the_first_runs_is_409_with_retry_after(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    gateway = await make_gateway(producer_linger_ms=1000)  # every produce takes a second
    stream = await new_stream(partitions=1)
    url, key = f"/api/v1/streams/{stream}/events", new_key()
    both = await asyncio.gather(*(gateway.post(url, json={"value": 1}, headers=keyed(key)) for _ in range(2)))
    by_status = {r.status_code: r for r in both}
    assert sorted(by_status) == [201, 409], [r.text for r in both]
    busy = by_status[409]
    assert busy.json()["code"] == 1025
    assert busy.json()["error"] == "IDEMPOTENCY_KEY_IN_USE"
    assert busy.json()["retriable"] is True
    assert int(busy.headers["retry-after"]) >= 1
    assert_replay_of(by_status[201], await gateway.post(url, json={"value": 1}, headers=keyed(key)))
    assert len(await read_all(kafka_bootstrap, stream, 1)) == 1


async def test_the_response_is_stored_after_it_went_out_and_replayed_meanwhile(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    answering, other = await make_gateway(), await make_gateway()
    stream = await new_stream(partitions=1)
    url, key, body = f"/api/v1/streams/{stream}/events", new_key(), {"value": {"n": 1}}
    await other.post(url, json=body, headers=keyed(new_key()))  # its idempotency log is started and tailing
    log = answering._transport.app.state.idempotency.log  # type: ignore[attr-defined]
    storing, written = asyncio.Event(), asyncio.Event()
    complete = log.complete

    async def held(*args: Any) -> None:
        storing.set()
        await written.wait()
        await complete(*args)

    log.complete = held
    original = await answering.post(url, json=body, headers=keyed(key))
    assert original.status_code == 201, original.text
    await asyncio.wait_for(storing.wait(), 10)  # answered while the stored response is still unwritten

    assert_replay_of(original, await answering.post(url, json=body, headers=keyed(key)))
    elsewhere = await other.post(url, json=body, headers=keyed(key))
    assert elsewhere.status_code == 409, elsewhere.text
    assert (await answering.post(url, json={"value": 2}, headers=keyed(key))).status_code == 422

    written.set()
    assert_replay_of(original, await until_settled(other, url, body, key))
    assert len(await read_all(kafka_bootstrap, stream, 2)) == 2


async def test_keys_belong_to_their_principal(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    root, anonymous = await make_gateway(), await make_gateway(auth="off", token=None)
    stream = await new_stream(partitions=1)
    url, key = f"/api/v1/streams/{stream}/events", new_key()
    for gateway in (root, anonymous):
        response = await gateway.post(url, json={"value": 1}, headers=keyed(key))
        assert response.status_code == 201, response.text
        assert "idempotent-replayed" not in response.headers
    assert len(await read_all(kafka_bootstrap, stream, 2)) == 2


async def test_replay_from_another_gateway_and_after_a_restart(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    first = await make_gateway()
    stream = await new_stream(partitions=3)
    url, key, body = f"/api/v1/streams/{stream}/events", new_key(), {"key": "a", "value": {"x": 1}}
    original = await first.post(url, json=body, headers=keyed(key))
    assert original.status_code == 201, original.text

    second = await make_gateway()
    assert_replay_of(original, await second.post(url, json=body, headers=keyed(key)))

    await first._transport.app.state.gateway.kafka.close()  # type: ignore[attr-defined]
    restarted = await make_gateway()
    assert_replay_of(original, await restarted.post(url, json=body, headers=keyed(key)))
    assert len(await read_all(kafka_bootstrap, stream, 1)) == 1


async def test_two_gateways_racing_on_the_same_keys_produce_each_once(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    gateways = [await make_gateway(), await make_gateway()]
    stream = await new_stream(partitions=3)
    url, keys = f"/api/v1/streams/{stream}/events", [new_key() for _ in range(50)]
    sends = [(key, g.post(url, json={"key": key, "value": key}, headers=keyed(key))) for key in keys for g in gateways]
    responses = await asyncio.gather(*(send for _, send in sends))
    statuses: dict[str, list[int]] = {}
    for (key, _), response in zip(sends, responses, strict=True):
        assert response.status_code in {201, 409}, response.text
        statuses.setdefault(key, []).append(response.status_code)
    assert all(201 in found for found in statuses.values()), statuses

    records = await read_all(kafka_bootstrap, stream, 50)
    landed = sorted(dict(r.headers)["idempotency-key"].decode() for r in records)
    assert landed == sorted(keys)


async def test_a_timed_out_produce_keeps_the_key_until_its_real_outcome_is_known(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    # The producer holds records for 1.5 s before sending them and the gateway waits 0.1 s: every produce is
    # a 504 whose record lands afterwards, with no fault injected anywhere.
    gateway = await make_gateway(producer_linger_ms=1500, produce_timeout_ms=100)
    stream = await new_stream(partitions=1)
    url, key, body = f"/api/v1/streams/{stream}/events", new_key(), {"value": "late"}
    first = await gateway.post(url, json=body, headers=keyed(key))
    assert first.status_code == 504, first.text
    assert first.json()["code"] == 1006

    busy = await gateway.post(url, json=body, headers=keyed(key))
    assert busy.status_code == 409, busy.text
    assert busy.json()["code"] == 1025

    settled = await until_settled(gateway, url, body, key)
    assert settled.status_code == 201, settled.text
    assert settled.headers["idempotent-replayed"] == "true"
    (record,) = await read_all(kafka_bootstrap, stream, 1)
    assert (record.partition, record.offset) == (settled.json()["partition"], settled.json()["offset"])
    assert orjson.loads(record.value) == "late"


async def test_a_timed_out_batch_keeps_the_key_until_its_real_outcome_is_known(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    gateway = await make_gateway(producer_linger_ms=1500)
    stream = await new_stream(partitions=1)
    url, key = f"/api/v1/streams/{stream}/events/batch", new_key()
    body = {"events": [{"value": i} for i in range(3)], "options": {"timeout": 100}}
    first = await gateway.post(url, json=body, headers=keyed(key))
    assert first.status_code == 207, first.text
    assert [r["outcome"] for r in first.json()["results"]] == ["unknown"] * 3

    busy = await gateway.post(url, json=body, headers=keyed(key))
    assert busy.status_code == 409, busy.text

    settled = await until_settled(gateway, url, body, key)
    assert settled.status_code == 200, settled.text
    document = settled.json()
    assert document["batchId"] == first.json()["batchId"]
    assert (document["successCount"], document["failureCount"]) == (3, 0)
    records = await read_all(kafka_bootstrap, stream, 3)
    assert [(r.offset, orjson.loads(r.value)) for r in records] == [
        (r["offset"], i) for i, r in enumerate(document["results"])
    ]


async def test_the_largest_batch_response_is_stored_and_replayed(
    gateway: httpx.AsyncClient, new_stream: NewStream
) -> None:
    stream = await new_stream(partitions=3)
    url, key = f"/api/v1/streams/{stream}/events/batch", new_key()
    body = {"events": [{"value": i} for i in range(10_000)]}
    first = await gateway.post(url, json=body, headers=keyed(key))
    assert first.status_code == 200, first.text
    assert len(first.content) > 1024 * 1024  # larger than Kafka's default record limit
    assert_replay_of(first, await gateway.post(url, json=body, headers=keyed(key)))


async def test_an_owner_waiting_longer_than_its_lease_renews_it(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    # Lease 2 s (twice the 1 s admin timeout), renewed every 0.67 s; the record lands after 3 s. Without the
    # renewals the second gateway would take the key over at 2 s and produce the event a second time.
    fast = {"admin_request_timeout_ms": 1000}
    owner = await make_gateway(producer_linger_ms=3000, produce_timeout_ms=100, **fast)
    other = await make_gateway(**fast)
    stream = await new_stream(partitions=1)
    url, key, body = f"/api/v1/streams/{stream}/events", new_key(), {"value": "slow"}
    assert (await owner.post(url, json=body, headers=keyed(key))).status_code == 504

    settled = await until_settled(other, url, body, key)
    assert settled.status_code == 201, settled.text
    assert settled.headers["idempotent-replayed"] == "true"
    assert len(await read_all(kafka_bootstrap, stream, 1)) == 1


async def test_a_claim_whose_owner_died_is_taken_over_after_its_lease(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    url, key = f"/api/v1/streams/{stream}/events", new_key()
    content = orjson.dumps({"value": "retried"})
    json = {"content-type": "application/json"}
    created = await gateway.post(url, content=content, headers={**json, **keyed(new_key())})  # the log's topic exists
    assert created.status_code == 201, created.text
    # A gateway that claimed the key and died before running the request: its claim, and nothing after it.
    await plant_dead_owner(kafka_bootstrap, DeadOwner(ROOT, url, key, content), stream, [])

    busy = await gateway.post(url, content=content, headers={**json, **keyed(key)})
    assert busy.status_code == 409, busy.text
    taken_over = await until_settled(gateway, url, orjson.loads(content), key)
    assert taken_over.status_code == 201, taken_over.text
    assert "idempotent-replayed" not in taken_over.headers  # this request ran: the dead owner never did
    assert len(await read_all(kafka_bootstrap, stream, 2)) == 2  # the first event, and this one


async def test_a_takeover_answers_with_the_event_a_dead_owner_wrote_and_writes_nothing(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    url, key = f"/api/v1/streams/{stream}/events", new_key()
    content = orjson.dumps({"value": "retried"})
    first = await gateway.post(url, json={"value": "first"}, headers=keyed(new_key()))  # the log's topic exists
    assert first.status_code == 201, first.text
    (planted,) = await plant_dead_owner(kafka_bootstrap, DeadOwner(ROOT, url, key, content), stream, [b'"retried"'])

    taken_over = await until_settled(gateway, url, orjson.loads(content), key)
    assert taken_over.status_code == 201, taken_over.text
    assert "idempotent-replayed" not in taken_over.headers
    assert (taken_over.json()["partition"], taken_over.json()["offset"]) == (0, planted)
    assert taken_over.headers["location"].endswith(taken_over.json()["eventId"])
    assert len(await read_all(kafka_bootstrap, stream, 3, timeout_s=3)) == 2  # the first event and the planted one
    assert_replay_of(taken_over, await gateway.post(url, content=content, headers={**JSON, **keyed(key)}))
    assert (await scrape(gateway))["kafkagate_idempotency_takeovers_total"][(("records", "found"),)] >= 1


async def test_a_takeover_of_a_batch_writes_only_the_events_a_dead_owner_did_not(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    url, key = f"/api/v1/streams/{stream}/events/batch", new_key()
    body = {"events": [{"value": "a"}, {"value": "a"}, {"value": "b"}]}
    content = orjson.dumps(body)
    first = await gateway.post(f"/api/v1/streams/{stream}/events", json={"value": "x"}, headers=keyed(new_key()))
    assert first.status_code == 201, first.text
    owner = DeadOwner(ROOT, url, key, content)
    planted_a, planted_b = await plant_dead_owner(kafka_bootstrap, owner, stream, [b'"a"', b'"b"'])

    taken_over = await until_settled(gateway, url, body, key)
    assert taken_over.status_code == 200, taken_over.text
    results = taken_over.json()["results"]
    assert [r["status"] for r in results] == ["published"] * 3
    assert results[0]["offset"] == planted_a
    assert results[2]["offset"] == planted_b
    assert results[1]["offset"] not in {planted_a, planted_b}
    values = [r.value for r in await read_all(kafka_bootstrap, stream, 5, timeout_s=3)]
    assert sorted(values) == sorted([b'"x"', b'"a"', b'"a"', b'"b"'])  # the second "a" only was written again

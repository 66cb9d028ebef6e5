"""The Event Intake API (seed 004) against a real broker, checked with the document's own examples (only the
base URL and the token changed) and, for what landed, with a plain aiokafka consumer."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from typing import Any

import httpx
import orjson
import pytest

from gateway.principal import Principal
from gateway.seeds import intake, intake_events, intake_ids
from tests.integration.conftest import ROOT_TOKEN, GatewayFactory, read_all
from tests.integration.dead_owner import DeadOwner, plant_dead_owner
from tests.integration.principals import as_token, new_key, new_tenant

pytestmark = pytest.mark.kafka

# The document's example request, pasted: `curl -X POST "https://api.example.com/v1/events" -H ... -d '...'`.
EXAMPLE_BODY = b"""{
    "event_type": "user.created",
    "occurred_at": "2025-12-22T10:30:00Z",
    "idempotency_key": "0f3f6f9b-9f0b-4c8d-9f18-5b6a9d9d2d41",
    "data": {
      "user_id": "u_12345",
      "plan": "pro"
    }
  }"""
EXAMPLE_EVENT = {
    "event_type": "user.created",
    "occurred_at": "2025-12-22T10:30:00Z",
    "data": {"user_id": "u_12345", "plan": "pro"},
}
JSON = {"Content-Type": "application/json"}
EVENT_ID = re.compile(r"evt_[0-9A-Z]{22,26}")


class Tenant:
    """A tenant with a key of its own, and a client for it sending the document's `Authorization` header."""

    def __init__(self, slug: str, client: httpx.AsyncClient):
        self.slug, self.client = slug, client

    @property
    def topic(self) -> str:
        return f"_t.{self.slug}.events"


async def tenant(root: httpx.AsyncClient, **key_spec: Any) -> Tenant:
    made = await new_tenant(root)
    key = await new_key(root, tenant=made["id"], scopes=["produce", "consume"], **key_spec)
    return Tenant(made["slug"], as_token(root, key["token"]))


def event(**changes: Any) -> dict[str, Any]:
    return {**EXAMPLE_EVENT, "idempotency_key": f"k-{uuid.uuid4().hex}", **changes}


def assert_envelope(response: httpx.Response, status: int, code: str, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "request_id"}
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    assert body["error"]["request_id"].startswith("req_")
    if message is not None:
        assert body["error"]["message"] == message


async def test_the_documents_post_example_is_accepted_once_kafka_has_it(
    make_gateway: GatewayFactory, kafka_bootstrap: str
) -> None:
    acme = await tenant(await make_gateway())
    sent_ms = time.time_ns() // 1_000_000
    response = await acme.client.post("/v1/events", content=EXAMPLE_BODY, headers=JSON)

    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"status", "event_id"}
    assert body["status"] == "accepted"
    assert EVENT_ID.fullmatch(body["event_id"])

    (record,) = await read_all(kafka_bootstrap, acme.topic, 1)
    assert intake_ids.decode(body["event_id"]) == (record.partition, record.offset)
    assert record.key == b"user.created"
    assert orjson.loads(record.value) == EXAMPLE_EVENT
    headers = dict(record.headers)
    assert headers["idempotency-key"] == b"0f3f6f9b-9f0b-4c8d-9f18-5b6a9d9d2d41"
    assert headers["x-request-id"] == response.headers["x-request-id"].encode()
    # The record is stamped when it was received; occurred_at (a year ago) stays in the value.
    assert record.timestamp >= sent_ms - 1000


async def test_the_documents_get_example_returns_the_documented_shape(make_gateway: GatewayFactory) -> None:
    acme = await tenant(await make_gateway())
    event_id = (await acme.client.post("/v1/events", content=EXAMPLE_BODY, headers=JSON)).json()["event_id"]

    # `curl -X GET "https://api.example.com/v1/events/<id>" -H "Authorization: Bearer <token>"`
    response = await acme.client.get(f"/v1/events/{event_id}")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"event_id": event_id, **EXAMPLE_EVENT}
    assert list(response.json()) == ["event_id", "event_type", "occurred_at", "data"]


async def test_events_of_one_type_keep_their_order(make_gateway: GatewayFactory, kafka_bootstrap: str) -> None:
    acme = await tenant(await make_gateway())
    for n in range(6):
        sent = event(event_type="order.placed" if n % 2 else "user.created", data={"n": n})
        assert (await acme.client.post("/v1/events", json=sent)).status_code == 202
    records = await read_all(kafka_bootstrap, acme.topic, 6)
    by_type: dict[bytes, list[Any]] = {}
    for record in records:
        by_type.setdefault(record.key, []).append(record)
    for same_type in by_type.values():
        assert len({record.partition for record in same_type}) == 1
        in_offset_order = sorted(same_type, key=lambda record: record.offset)
        numbers = [orjson.loads(record.value)["data"]["n"] for record in in_offset_order]
        assert numbers == sorted(numbers)


@pytest.mark.parametrize(
    ("content", "headers", "message"),
    [
        (orjson.dumps({k: v for k, v in event().items() if k != "event_type"}), JSON, None),
        (orjson.dumps(event(occurred_at="2025-12-22 at half past ten")), JSON, None),
        (orjson.dumps(event(occurred_at="2025-12-22T10:30:00")), JSON, None),
        (orjson.dumps(event(data=["not", "an", "object"])), JSON, "Invalid field: data must be a JSON object"),
        (b'{"event_type": "user.created", ', JSON, None),
        # curl's -d without -H "Content-Type: application/json" sends a form.
        (orjson.dumps(event()), {"Content-Type": "application/x-www-form-urlencoded"}, None),
        (orjson.dumps(event()), {"Content-Type": "text/plain"}, None),
    ],
    ids=["missing-field", "invalid-timestamp", "no-timezone", "data-not-object", "malformed", "form", "text"],
)
async def test_invalid_requests_are_400_invalid_request(
    make_gateway: GatewayFactory, content: bytes, headers: dict[str, str], message: str | None
) -> None:
    acme = await tenant(await make_gateway())
    response = await acme.client.post("/v1/events", content=content, headers=headers)
    assert_envelope(response, 400, "invalid_request", message)


async def test_a_missing_field_is_named_exactly_as_the_document_does(make_gateway: GatewayFactory) -> None:
    acme = await tenant(await make_gateway())
    body = {k: v for k, v in orjson.loads(EXAMPLE_BODY).items() if k != "event_type"}
    response = await acme.client.post("/v1/events", json=body)
    assert_envelope(response, 400, "invalid_request", "Missing required field: event_type")
    response = await acme.client.post("/v1/events", json={**orjson.loads(EXAMPLE_BODY), "occurred_at": "soon"})
    assert_envelope(response, 400, "invalid_request")
    assert response.json()["error"]["message"].startswith("Invalid timestamp: ")


@pytest.mark.parametrize("token", [None, "not-a-token", "kg_live_doesnotexist_" + "x" * 30])
async def test_without_a_valid_token_it_is_401_unauthorized(make_gateway: GatewayFactory, token: str | None) -> None:
    client = as_token(await make_gateway(), token)
    for response in (
        await client.post("/v1/events", content=EXAMPLE_BODY, headers=JSON),
        await client.get(f"/v1/events/{intake_ids.encode(0, 0)}"),
    ):
        assert_envelope(response, 401, "unauthorized", "Missing or invalid token")
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_unknown_event_ids_are_404_not_found(make_gateway: GatewayFactory) -> None:
    acme = await tenant(await make_gateway())
    # Before the tenant's intake stream exists, then after.
    assert_envelope(await acme.client.get("/v1/events/evt_01HZYXABCDEF1234567890"), 404, "not_found", "Event not found")
    assert (await acme.client.post("/v1/events", json=event())).status_code == 202
    for event_id in (
        "evt_01HZYXABCDEF1234567890",  # the document's sample id
        intake_ids.encode(0, 10**9),  # well formed, past the end
        intake_ids.encode(5000, 0),  # a partition the stream does not have
        "evt_2_17",
        "nothing-like-an-id",
    ):
        assert_envelope(await acme.client.get(f"/v1/events/{event_id}"), 404, "not_found", "Event not found")


async def test_a_key_over_its_rate_limit_gets_429_rate_limited_with_retry_after(make_gateway: GatewayFactory) -> None:
    acme = await tenant(await make_gateway(), rateLimit={"requestsPerSecond": 0.01})
    first = await acme.client.get("/v1/events/evt_01HZYXABCDEF1234567890")
    assert first.status_code == 404  # spent the key's one request
    refused = await acme.client.post("/v1/events", content=EXAMPLE_BODY, headers=JSON)
    assert_envelope(refused, 429, "rate_limited")
    retry_after = int(refused.headers["retry-after"])
    assert retry_after >= 1
    assert refused.json()["error"]["message"] == f"Too many requests. Retry after {retry_after} seconds."


async def test_a_key_without_the_scope_is_403_forbidden(make_gateway: GatewayFactory) -> None:
    root = await make_gateway()
    made = await new_tenant(root)
    reader = as_token(root, (await new_key(root, tenant=made["id"], scopes=["consume"]))["token"])
    assert_envelope(await reader.post("/v1/events", json=event()), 403, "forbidden")


async def test_unknown_routes_and_methods_keep_the_envelope(make_gateway: GatewayFactory) -> None:
    acme = await tenant(await make_gateway())
    assert_envelope(await acme.client.get("/v1/events/a/b"), 404, "not_found")
    assert_envelope(await acme.client.put("/v1/events", json=event()), 405, "method_not_allowed")


async def test_a_retry_with_the_same_key_answers_the_same_event_and_lands_once(
    make_gateway: GatewayFactory, kafka_bootstrap: str
) -> None:
    acme = await tenant(await make_gateway())
    first = await acme.client.post("/v1/events", content=EXAMPLE_BODY, headers=JSON)
    assert first.status_code == 202, first.text
    # The same event, sent again as it was and serialized differently.
    again = await acme.client.post("/v1/events", content=EXAMPLE_BODY, headers=JSON)
    reordered = await acme.client.post("/v1/events", content=orjson.dumps(orjson.loads(EXAMPLE_BODY)), headers=JSON)
    for replay in (again, reordered):
        assert replay.status_code == 202
        assert replay.content == first.content
        assert replay.headers["idempotent-replayed"] == "true"

    records = await read_all(kafka_bootstrap, acme.topic, 1)
    assert len(records) == 1

    other = {**orjson.loads(EXAMPLE_BODY), "data": {"user_id": "u_12345", "plan": "free"}}
    reused = await acme.client.post("/v1/events", json=other)
    assert_envelope(reused, 400, "invalid_request", "idempotency_key has already been used with a different event")
    assert len(await read_all(kafka_bootstrap, acme.topic, 1)) == 1


async def test_ids_and_keys_hold_on_another_gateway_and_after_a_restart(
    make_gateway: GatewayFactory, kafka_bootstrap: str
) -> None:
    root = await make_gateway()
    made = await new_tenant(root)
    token = (await new_key(root, tenant=made["id"], scopes=["produce", "consume"]))["token"]
    first = as_token(root, token)
    accepted = await first.post("/v1/events", content=EXAMPLE_BODY, headers=JSON)
    assert accepted.status_code == 202, accepted.text
    event_id = accepted.json()["event_id"]

    # A second gateway running beside the first, then one started afterwards (nothing in memory from before).
    for gateway in (await make_gateway(token=token), await make_gateway(token=token)):
        read = await gateway.get(f"/v1/events/{event_id}")
        assert read.status_code == 200, read.text
        assert read.json() == {"event_id": event_id, **EXAMPLE_EVENT}
        replay = await gateway.post("/v1/events", content=EXAMPLE_BODY, headers=JSON)
        assert (replay.status_code, replay.content) == (202, accepted.content)
    assert len(await read_all(kafka_bootstrap, f"_t.{made['slug']}.events", 1)) == 1


async def test_tenants_have_their_own_streams_ids_and_keys(make_gateway: GatewayFactory, kafka_bootstrap: str) -> None:
    root = await make_gateway()
    acme, globex = await tenant(root), await tenant(root)
    shared_key = f"k-{uuid.uuid4().hex}"

    acme_ids = []
    for n in range(2):
        response = await acme.client.post("/v1/events", json=event(idempotency_key=f"{shared_key}-{n}", data={"n": n}))
        assert response.status_code == 202, response.text
        acme_ids.append(response.json()["event_id"])
    # The same idempotency_key as acme's first event, with another event: a key of globex's own.
    response = await globex.client.post("/v1/events", json=event(idempotency_key=f"{shared_key}-0", data={"g": 1}))
    assert response.status_code == 202, response.text
    assert "idempotent-replayed" not in response.headers
    globex_id = response.json()["event_id"]

    acme_records = await read_all(kafka_bootstrap, acme.topic, 2)
    globex_records = await read_all(kafka_bootstrap, globex.topic, 1)
    assert [orjson.loads(r.value)["data"] for r in sorted(acme_records, key=lambda r: r.offset)] == [{"n": 0}, {"n": 1}]
    assert [orjson.loads(r.value)["data"] for r in globex_records] == [{"g": 1}]

    # An id names a position in the caller's own stream: acme's second event is nowhere in globex's.
    assert_envelope(await globex.client.get(f"/v1/events/{acme_ids[1]}"), 404, "not_found", "Event not found")
    # Both first events sit at the same position (one type, one partition, offset 0), so their ids are equal,
    # and each tenant reads its own event under it.
    assert acme_ids[0] == globex_id
    assert (await globex.client.get(f"/v1/events/{globex_id}")).json()["data"] == {"g": 1}
    assert (await acme.client.get(f"/v1/events/{acme_ids[0]}")).json()["data"] == {"n": 0}


async def test_one_credential_acting_for_two_tenants_has_a_key_space_per_tenant(
    make_gateway: GatewayFactory, kafka_bootstrap: str
) -> None:
    root = await make_gateway()
    first, second = await new_tenant(root), await new_tenant(root)
    key = f"k-{uuid.uuid4().hex}"
    for made, n in ((first, 1), (second, 2)):
        acting = as_token(root, ROOT_TOKEN, **{"X-Tenant-ID": made["slug"]})
        response = await acting.post("/v1/events", json=event(idempotency_key=key, data={"n": n}))
        assert response.status_code == 202, response.text
        assert "idempotent-replayed" not in response.headers
        (record,) = await read_all(kafka_bootstrap, f"_t.{made['slug']}.events", 1)
        assert orjson.loads(record.value)["data"] == {"n": n}


async def test_an_event_the_intake_streams_schema_dead_letters_is_refused_and_kept(
    make_gateway: GatewayFactory, kafka_bootstrap: str
) -> None:
    root = await make_gateway()
    made = await new_tenant(root)
    key = await new_key(root, tenant=made["id"], scopes=["produce", "consume", "admin"])
    client = as_token(root, key["token"])
    assert (await client.post("/v1/events", json=event())).status_code == 202  # creates the intake stream
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"data": {"type": "object", "properties": {"plan": {"enum": ["free", "pro"]}}}},
    }
    put = await client.put("/api/v1/streams/events/schema", json={"schema": schema, "onInvalid": "deadLetter"})
    assert put.status_code == 200, put.text
    refused = await client.post("/v1/events", json=event(data={"plan": "platinum"}))
    assert_envelope(refused, 400, "invalid_request")
    assert "schema" in refused.json()["error"]["message"]
    letters = await read_all(kafka_bootstrap, f"_t.{made['slug']}.events.dlq", 1)
    assert [orjson.loads(r.value)["data"] for r in letters] == [{"plan": "platinum"}]
    assert len(await read_all(kafka_bootstrap, f"_t.{made['slug']}.events", 2, timeout_s=3)) == 1


async def test_a_retry_after_its_gateway_died_answers_the_event_that_gateway_wrote(
    make_gateway: GatewayFactory, kafka_bootstrap: str
) -> None:
    root = await make_gateway()
    made = await new_tenant(root)
    key = await new_key(root, tenant=made["id"], scopes=["produce", "consume"])
    client = as_token(root, key["token"])
    assert (await client.post("/v1/events", json=event())).status_code == 202  # the stream and the log exist
    body = event()
    parsed = intake_events.parse(orjson.dumps(body))
    who = Principal(key["keyId"], frozenset(), made["id"])
    owner = DeadOwner(who, "/v1/events", body["idempotency_key"], parsed.canonical(), intake.REALM)
    topic = f"_t.{made['slug']}.events"
    (planted,) = await plant_dead_owner(kafka_bootstrap, owner, topic, [parsed.stored()])

    deadline = time.monotonic() + 20
    while (response := await client.post("/v1/events", json=body)).status_code == 409:
        assert time.monotonic() < deadline, "the dead owner's claim never lapsed"
        await asyncio.sleep(0.05)
    assert response.status_code == 202, response.text
    assert response.json()["event_id"] == intake_ids.encode(0, planted)
    assert len(await read_all(kafka_bootstrap, topic, 3, timeout_s=3)) == 2  # the first event, the planted one

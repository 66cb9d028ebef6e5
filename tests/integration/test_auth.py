"""Bearer authentication and authorization against a real key store: keys, scopes, stream patterns, JWTs."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
import jwt
import pytest

from tests.integration.conftest import ROOT_TOKEN, GatewayFactory
from tests.integration.principals import as_token, new_key

pytestmark = pytest.mark.kafka

NewStream = Callable[..., Awaitable[str]]


async def wait_for_status(client: httpx.AsyncClient, path: str, status: int, within_s: float) -> float:
    """Seconds until GET `path` answered `status`; fails after `within_s`."""
    started = time.monotonic()
    while True:
        if (await client.get(path)).status_code == status:
            return time.monotonic() - started
        assert time.monotonic() - started < within_s, f"{path} did not answer {status} within {within_s} s"
        await asyncio.sleep(0.1)


async def test_every_bad_token_gets_the_same_401(gateway: httpx.AsyncClient) -> None:
    revoked = await new_key(gateway)
    assert (await gateway.delete(f"/api/v1/keys/{revoked['keyId']}")).status_code == 200
    expiring = await new_key(gateway, expiresAt=int(time.time() * 1000) + 1500)
    exchanged = await gateway.post("/auth/token", json={"api_key": expiring["token"]})
    assert exchanged.status_code == 200
    forged = jwt.encode({"sub": expiring["keyId"], "iss": "kafkagate", "iat": 1, "exp": 2**40}, "x" * 40)
    await asyncio.sleep(1.6)
    variants: dict[str, dict[str, str]] = {
        "missing": {},
        "not bearer": {"authorization": f"Basic {ROOT_TOKEN}"},
        "empty bearer": {"authorization": "Bearer "},
        "two words": {"authorization": "Bearer a b"},
        "malformed": {"authorization": "Bearer not-a-token"},
        "unknown key": {"authorization": f"Bearer kg_{'0' * 16}_{'A' * 43}"},
        "wrong secret": {"authorization": f"Bearer {revoked['token'][:-4]}AAAA"},
        "revoked": {"authorization": f"Bearer {revoked['token']}"},
        "expired key": {"authorization": f"Bearer {expiring['token']}"},
        "expired jwt": {"authorization": f"Bearer {exchanged.json()['access_token']}"},
        "forged jwt": {"authorization": f"Bearer {forged}"},
        "root typo": {"authorization": f"Bearer {ROOT_TOKEN}x"},
    }
    bodies = {}
    for reason, headers in variants.items():
        client = as_token(gateway, None, **headers, **{"x-request-id": "same-id"})
        response = await client.get("/api/v1/streams")
        assert response.status_code == 401, reason
        assert response.headers["www-authenticate"].startswith("Bearer"), reason
        assert response.headers["content-type"] == "application/problem+json"
        bodies[reason] = response.content
    assert len(set(bodies.values())) == 1, bodies
    assert b'"code":1018' in bodies["missing"]


async def test_public_routes_need_no_token(gateway: httpx.AsyncClient) -> None:
    anonymous = as_token(gateway, None)
    for path in ("/healthz", "/readyz", "/openapi.json"):
        assert (await anonymous.get(path)).status_code == 200, path


async def test_each_scope_guards_its_routes(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    stream = await new_stream(partitions=1)
    calls: dict[str, tuple[str, str, dict[str, object] | None]] = {
        "produce": ("POST", f"/api/v1/streams/{stream}/events", {"value": 1}),
        "consume": ("GET", f"/api/v1/streams/{stream}/partitions/0/events?offset=earliest&timeout=0", None),
        "processors": ("GET", "/api/v1/processors", None),
        "admin": ("GET", f"/api/v1/streams/{stream}", None),
    }
    for scope, (method, path, body) in calls.items():
        others = [s for s in calls if s != scope]
        lacking = as_token(gateway, (await new_key(gateway, scopes=others))["token"])
        denied = await lacking.request(method, path, json=body)
        assert denied.status_code == 403, (scope, denied.text)
        assert denied.json()["code"] == 1028
        assert scope in denied.json()["detail"]
        holding = as_token(gateway, (await new_key(gateway, scopes=[scope]))["token"])
        allowed = await holding.request(method, path, json=body)
        assert allowed.status_code in (200, 201), (scope, allowed.text)


async def test_stream_patterns_limit_streams_and_commits(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    allowed, other = await new_stream(partitions=1), await new_stream(partitions=1)
    key = await new_key(gateway, scopes=["produce", "consume"], streams=[allowed[:6] + "*"])
    limited = as_token(gateway, key["token"])
    assert not other.startswith(allowed[:6]), "streams must differ in their first characters for this test"
    assert (await limited.post(f"/api/v1/streams/{allowed}/events", json={"value": 1})).status_code == 201
    denied = await limited.post(f"/api/v1/streams/{other}/events", json={"value": 1})
    assert denied.status_code == 403
    assert denied.json()["code"] == 1028
    group = f"g-{uuid.uuid4().hex[:8]}"
    commit_other = {"offsets": [{"stream": other, "partition": 0, "offset": 0}]}
    assert (await limited.post(f"/api/v1/consumers/{group}/commit", json=commit_other)).status_code == 403
    reset_other = {"stream": other, "to": "earliest"}
    assert (await limited.post(f"/api/v1/consumers/{group}/reset", json=reset_other)).status_code == 403
    polled = await limited.get(f"/api/v1/streams/{allowed}/events", params={"consumerGroup": group, "timeout": 0})
    assert polled.status_code == 200, polled.text
    commit_allowed = {"offsets": [{"stream": allowed, "partition": 0, "offset": 1}]}
    assert (await limited.post(f"/api/v1/consumers/{group}/commit", json=commit_allowed)).status_code == 200


async def test_a_key_cannot_grant_more_than_it_holds(gateway: httpx.AsyncClient) -> None:
    admin_only = as_token(gateway, (await new_key(gateway, scopes=["admin"]))["token"])
    escalate = await admin_only.post("/api/v1/keys", json={"name": "more", "scopes": ["admin", "produce"]})
    assert escalate.status_code == 403
    patterned = as_token(gateway, (await new_key(gateway, scopes=["admin"], streams=["a.*"]))["token"])
    wider = await patterned.post("/api/v1/keys", json={"name": "wider", "scopes": ["admin"]})
    assert wider.status_code == 403
    same = await patterned.post("/api/v1/keys", json={"name": "same", "scopes": ["admin"], "streams": ["a.*"]})
    assert same.status_code == 201
    assert (await admin_only.post("/api/v1/tenants", json={"slug": "nope", "name": "n"})).status_code == 403


async def test_key_lifecycle_never_shows_the_token_again(gateway: httpx.AsyncClient) -> None:
    expires = "2099-01-01T00:00:00.000Z"
    created = await gateway.post(
        "/api/v1/keys",
        json={
            "name": "ingest",
            "scopes": ["produce"],
            "streams": ["orders.*"],
            "expiresAt": expires,
            "rateLimit": {"requestsPerSecond": 50},
        },
    )
    assert created.status_code == 201
    key = created.json()
    assert key["token"].startswith("kg_")
    assert len(key["token"]) >= 3 + 16 + 1 + 43  # 256 random bits in 43 base64url characters
    assert created.headers["location"] == f"/api/v1/keys/{key['keyId']}"
    expected = {"keyId", "name", "tenant", "scopes", "streams", "createdAt", "expiresAt", "rateLimit", "token"}
    assert set(key) == expected
    assert key["expiresAt"] == expires
    described = (await gateway.get(f"/api/v1/keys/{key['keyId']}")).json()
    assert described == {k: v for k, v in key.items() if k != "token"}
    listed = (await gateway.get("/api/v1/keys")).json()["keys"]
    assert any(k["keyId"] == key["keyId"] for k in listed)
    assert all("token" not in k and "tokenHash" not in k for k in listed)
    assert (await gateway.delete(f"/api/v1/keys/{key['keyId']}")).status_code == 200
    assert (await gateway.get(f"/api/v1/keys/{key['keyId']}")).status_code == 404
    assert (await gateway.delete(f"/api/v1/keys/{key['keyId']}")).json()["code"] == 1030


async def test_a_key_created_on_one_gateway_works_on_another_and_revocation_reaches_it_within_5_s(
    make_gateway: GatewayFactory,
) -> None:
    first, second = await make_gateway(), await make_gateway()
    key = await new_key(first, scopes=["admin"])
    on_second = as_token(second, key["token"])
    assert (await on_second.get("/api/v1/streams")).status_code == 200
    assert (await first.delete(f"/api/v1/keys/{key['keyId']}")).status_code == 200
    elapsed = await wait_for_status(on_second, "/api/v1/streams", 401, within_s=5)
    assert elapsed < 5


async def test_access_tokens_act_as_their_key_expire_and_die_with_it(make_gateway: GatewayFactory) -> None:
    first, second = await make_gateway(), await make_gateway()
    key = await new_key(first, scopes=["admin"])
    exchanged = await first.post("/auth/token", json={"api_key": key["token"]})
    assert exchanged.status_code == 200
    document = exchanged.json()
    assert document["token_type"] == "Bearer"
    assert document["expires_in"] == 3600
    claims = jwt.decode(document["access_token"], options={"verify_signature": False})
    assert claims["sub"] == key["keyId"]
    assert claims["exp"] - claims["iat"] == 3600
    with_jwt = as_token(second, document["access_token"])
    assert (await with_jwt.get("/api/v1/streams")).status_code == 200, "another gateway verifies it too"
    denied = await with_jwt.get("/api/v1/processors")
    assert denied.status_code == 403, "a JWT holds its key's scopes, no more"
    assert (await first.delete(f"/api/v1/keys/{key['keyId']}")).status_code == 200
    await wait_for_status(with_jwt, "/api/v1/streams", 401, within_s=5)

    short = await new_key(first, scopes=["admin"], expiresAt=int(time.time() * 1000) + 2500)
    capped = (await first.post("/auth/token", json={"api_key": short["token"]})).json()
    assert 1 <= capped["expires_in"] <= 3, "an access token never outlives its key"
    with_short = as_token(first, capped["access_token"])
    assert (await with_short.get("/api/v1/streams")).status_code == 200
    await wait_for_status(with_short, "/api/v1/streams", 401, within_s=6)


async def test_the_token_exchange_refuses_anything_but_a_live_key(gateway: httpx.AsyncClient) -> None:
    for api_key in (ROOT_TOKEN, "kg_nothing", f"kg_{'0' * 16}_{'A' * 43}"):
        refused = await as_token(gateway, None).post("/auth/token", json={"api_key": api_key})
        assert refused.status_code == 401
        assert refused.json()["code"] == 1018
    assert (await gateway.post("/auth/token", json={})).status_code == 422


async def test_internal_topics_are_invisible_to_everyone_but_root(gateway: httpx.AsyncClient) -> None:
    operator = as_token(gateway, (await new_key(gateway, scopes=["admin", "consume"]))["token"])
    hidden = await operator.get("/api/v1/streams/__consumer_offsets")
    assert hidden.status_code == 404
    assert hidden.json()["code"] == 1001
    names = [s["name"] for s in (await operator.get("/api/v1/streams", params={"limit": 1000})).json()["streams"]]
    assert not any(name.startswith("_") for name in names)
    read = await operator.get("/api/v1/streams/_kafkagate_keys/partitions/0/events", params={"offset": "earliest"})
    assert read.status_code == 404, "the key store must not be readable through the API"
    assert (await gateway.get("/api/v1/streams/__consumer_offsets")).status_code == 200

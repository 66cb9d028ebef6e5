"""Quotas and overload against a real broker: 429 with Retry-After and the RateLimit fields past a key's
quota, 503 at the in-flight produce cap, and both recovering."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import orjson
import pytest

from tests.integration.conftest import GatewayFactory
from tests.integration.principals import as_token, new_key

pytestmark = pytest.mark.kafka

NewStream = Callable[..., Awaitable[str]]
RATELIMIT = re.compile(r'"(default|bytes)";r=(\d+);t=(\d+)')


def event_body(size: int) -> bytes:
    """A valid single-event body of exactly `size` bytes."""
    skeleton = orjson.dumps({"key": "k", "value": {"pad": ""}})
    return orjson.dumps({"key": "k", "value": {"pad": "x" * (size - len(skeleton))}})


def assert_problem(response: httpx.Response, status: int, code: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["code"] == code
    assert body["retriable"] is True
    assert body["request_id"] == response.headers["x-request-id"]
    assert int(response.headers["retry-after"]) >= 1
    return body


def ratelimit(response: httpx.Response) -> dict[str, tuple[int, int]]:
    return {name: (int(r), int(t)) for name, r, t in RATELIMIT.findall(response.headers["ratelimit"])}


async def test_a_burst_over_the_request_quota_is_refused_then_served_after_retry_after(
    make_gateway: GatewayFactory, new_stream: NewStream
) -> None:
    gateway = await make_gateway(rate_limit_requests_per_s=5, rate_limit_bytes_per_s=0)
    stream = await new_stream(partitions=1)
    responses = await asyncio.gather(*(gateway.get(f"/api/v1/streams/{stream}") for _ in range(15)))
    served = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(served) + len(refused) == 15
    assert len(served) >= 5  # the burst: one second's worth at once
    assert refused

    for response in served:
        assert response.headers["ratelimit-policy"] == '"default";q=5;w=1'
        remaining, _ = ratelimit(response)["default"]
        assert 0 <= remaining < 5
    last = refused[-1]
    body = assert_problem(last, 429, 1005)
    assert body["error"] == "QUOTA_EXCEEDED"
    assert body["violated-policies"] == ["default"]
    assert last.headers["ratelimit-policy"] == '"default";q=5;w=1'
    remaining, reset_s = ratelimit(last)["default"]
    assert remaining == 0
    assert reset_s == int(last.headers["retry-after"])  # Retry-After is not before the end of the window

    await asyncio.sleep(int(last.headers["retry-after"]))
    again = await gateway.get(f"/api/v1/streams/{stream}")
    assert again.status_code == 200, again.text


async def test_the_bytes_quota_refuses_bodies_up_front_then_recovers(
    make_gateway: GatewayFactory, new_stream: NewStream
) -> None:
    gateway = await make_gateway(rate_limit_requests_per_s=0, rate_limit_bytes_per_s=2000)
    stream = await new_stream(partitions=1)
    body = event_body(1500)
    headers = {"content-type": "application/json"}
    first, second = await asyncio.gather(
        *(gateway.post(f"/api/v1/streams/{stream}/events", content=body, headers=headers) for _ in range(2))
    )
    assert sorted([first.status_code, second.status_code]) == [201, 429], (first.text, second.text)
    refused = first if first.status_code == 429 else second
    problem = assert_problem(refused, 429, 1005)
    assert problem["violated-policies"] == ["bytes"]
    assert refused.headers["ratelimit-policy"] == '"bytes";q=2000;qu="content-bytes";w=1'
    assert ratelimit(refused)["bytes"][0] <= 500

    await asyncio.sleep(int(refused.headers["retry-after"]))
    again = await gateway.post(f"/api/v1/streams/{stream}/events", content=body, headers=headers)
    assert again.status_code == 201, again.text


async def test_a_chunked_body_is_charged_as_it_streams(make_gateway: GatewayFactory, new_stream: NewStream) -> None:
    gateway = await make_gateway(rate_limit_requests_per_s=0, rate_limit_bytes_per_s=2000)
    stream = await new_stream(partitions=1)
    body = event_body(6000)

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    streamed = await gateway.post(
        f"/api/v1/streams/{stream}/events", content=chunked(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 201, streamed.text  # admitted: its length was not known up front
    after = await gateway.post(
        f"/api/v1/streams/{stream}/events", content=event_body(100), headers={"content-type": "application/json"}
    )
    # The 6000 streamed bytes left the key 4000 bytes in debt: two seconds at 2000 bytes/s.
    assert assert_problem(after, 429, 1005)["violated-policies"] == ["bytes"]


async def test_public_paths_are_not_limited(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(rate_limit_requests_per_s=1)
    for _ in range(5):
        for path in ("/healthz", "/readyz", "/openapi.json"):
            response = await gateway.get(path)
            assert response.status_code == 200, response.text
            assert "ratelimit" not in response.headers


async def test_the_inflight_produce_cap_answers_503_and_releases_after(
    make_gateway: GatewayFactory, new_stream: NewStream
) -> None:
    gateway = await make_gateway(max_body_bytes=1024, max_inflight_produce_bytes=2048)
    stream = await new_stream(partitions=1)
    body = event_body(1000)
    gate = asyncio.Event()
    halfway = [asyncio.Event(), asyncio.Event()]

    def paused_upload(index: int) -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            yield body[:500]
            halfway[index].set()  # the gateway admitted this request and is reading its body
            await gate.wait()
            yield body[500:]

        return chunks()

    headers = {"content-type": "application/json", "content-length": str(len(body))}
    uploads = [
        asyncio.create_task(gateway.post(f"/api/v1/streams/{stream}/events", content=paused_upload(i), headers=headers))
        for i in range(2)
    ]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in halfway)), 30)

    # 2 x 1000 bytes in flight: another 1000 would pass the 2048-byte cap.
    over = await gateway.post(f"/api/v1/streams/{stream}/events", content=body, headers=headers)
    problem = assert_problem(over, 503, 1027)
    assert problem["error"] == "OVERLOADED"
    # The cap is on produce bodies only: reading still works meanwhile.
    assert (await gateway.get(f"/api/v1/streams/{stream}")).status_code == 200

    gate.set()
    finished = await asyncio.gather(*uploads)
    assert [r.status_code for r in finished] == [201, 201], [r.text for r in finished]
    # Both reservations were released: two more full bodies fit side by side again.
    later = await asyncio.gather(
        *(gateway.post(f"/api/v1/streams/{stream}/events", content=body, headers=headers) for _ in range(2))
    )
    assert [r.status_code for r in later] == [201, 201], [r.text for r in later]


async def test_each_key_has_its_own_buckets_and_its_own_rate_limit(
    make_gateway: GatewayFactory, new_stream: NewStream
) -> None:
    gateway = await make_gateway(rate_limit_requests_per_s=1000, rate_limit_bytes_per_s=0)
    stream = await new_stream(partitions=1)
    slow = as_token(gateway, (await new_key(gateway, rateLimit={"requestsPerSecond": 2}))["token"])
    fast = as_token(gateway, (await new_key(gateway))["token"])
    slow_answers = [await slow.get(f"/api/v1/streams/{stream}") for _ in range(6)]
    assert [r.status_code for r in slow_answers].count(429) >= 3, "a key's own rateLimit wins over the default"
    assert slow_answers[0].headers["ratelimit-policy"] == '"default";q=2;w=1'
    fast_answers = [await fast.get(f"/api/v1/streams/{stream}") for _ in range(6)]
    assert {r.status_code for r in fast_answers} == {200}, "another key's spent bucket does not touch this one"
    assert fast_answers[0].headers["ratelimit-policy"] == '"default";q=1000;w=1'

"""The sync and async clients' retry loop over httpx's MockTransport: what is sent again, with which key and body."""

from __future__ import annotations

import httpx
import pytest

from kafkagate.client import AsyncClient, Client, NotFound, RateLimited, RetryPolicy, TransportError, Unavailable

FAST = RetryPolicy(backoff_s=0.001, max_backoff_s=0.002, max_retry_after_s=0.001)
PUBLISHED = {"eventId": "evt_0_0", "partition": 0, "offset": 0, "timestamp": "t", "status": "published"}


class Script:
    """Answers requests from a list, recording what it received."""

    def __init__(self, *answers: httpx.Response | type[Exception]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, type):
            raise answer("scripted")
        return answer


def busy() -> httpx.Response:
    return httpx.Response(503, json={"error": "OVERLOADED", "retriable": True}, headers={"retry-after": "1"})


def test_a_produce_is_retried_with_the_same_key_and_the_same_bytes() -> None:
    script = Script(busy(), httpx.ReadTimeout, httpx.Response(201, json=PUBLISHED))
    with Client("http://gateway", "t", transport=httpx.MockTransport(script), retry=FAST) as client:
        published = client.events.publish("orders", {"n": 1}, key="k")
    assert published.event_id == "evt_0_0"
    keys = {r.headers["idempotency-key"] for r in script.requests}
    assert len(script.requests) == 3
    assert len(keys) == 1
    assert len({r.content for r in script.requests}) == 1
    assert script.requests[0].headers["authorization"] == "Bearer t"


def test_two_logical_requests_get_two_keys() -> None:
    script = Script(httpx.Response(201, json=PUBLISHED), httpx.Response(201, json=PUBLISHED))
    with Client("http://gateway", transport=httpx.MockTransport(script), retry=FAST) as client:
        client.events.publish("orders", 1)
        client.events.publish("orders", 1)
    assert script.requests[0].headers["idempotency-key"] != script.requests[1].headers["idempotency-key"]


def test_creating_a_key_is_not_repeated_after_an_ambiguous_failure() -> None:
    script = Script(busy())
    with (
        Client("http://gateway", transport=httpx.MockTransport(script), retry=FAST) as client,
        pytest.raises(Unavailable),
    ):
        client.keys.create("k", ["produce"])
    assert len(script.requests) == 1
    lost = Script(httpx.ReadTimeout)
    with (
        Client("http://gateway", transport=httpx.MockTransport(lost), retry=FAST) as client,
        pytest.raises(TransportError),
    ):
        client.keys.create("k", ["produce"])
    assert len(lost.requests) == 1


def test_a_quota_refusal_is_waited_out_even_for_unsafe_calls_until_attempts_run_out() -> None:
    refused = httpx.Response(429, json={"error": "QUOTA_EXCEEDED"}, headers={"retry-after": "1"})
    script = Script(*[refused] * 3)
    policy = RetryPolicy(attempts=3, max_retry_after_s=0.001)
    with (
        Client("http://gateway", transport=httpx.MockTransport(script), retry=policy) as client,
        pytest.raises(RateLimited) as raised,
    ):
        client.keys.create("k", ["produce"])
    assert len(script.requests) == 3
    assert raised.value.retry_after_s == 1


def test_a_long_poll_gets_its_wait_added_to_the_read_timeout() -> None:
    seen: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={"events": [], "metadata": {"consumerGroup": "g"}})

    with Client("http://gateway", transport=httpx.MockTransport(answer), timeout_s=5) as client:
        client.events.poll("orders", "g", timeout_ms=20_000)
    assert seen[0]["read"] == 25


async def test_the_async_client_retries_the_same_way_and_raises_typed_errors() -> None:
    script = Script(
        busy(),
        httpx.Response(201, json=PUBLISHED),
        httpx.Response(404, json={"error": "STREAM_NOT_FOUND", "code": 1001}),
    )
    async with AsyncClient("http://gateway", transport=httpx.MockTransport(script), retry=FAST) as client:
        assert (await client.events.publish("orders", 1)).status == "published"
        with pytest.raises(NotFound) as missing:
            await client.streams.get("nope")
    assert missing.value.code == 1001
    assert script.requests[0].headers["idempotency-key"] == script.requests[1].headers["idempotency-key"]

"""The in-flight produce cap at the ASGI level: which routes count, what is reserved, and that every way a
request can end releases its reservation."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from starlette.types import Message, Receive, Scope, Send

from gateway.overload import InflightBytes, OverloadMiddleware, is_produce


def scope(path: str = "/api/v1/streams/s/events", headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(b"content-length", b"600")] if headers is None else headers,
        "state": {"request_id": "req_1"},
    }


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])


async def no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def answer(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/api/v1/streams/orders/events", True),
        ("POST", "/api/v1/streams/orders/events/batch", True),
        ("GET", "/api/v1/streams/orders/events", False),
        ("POST", "/api/v1/streams/orders/events/evt_0_1", False),
        ("POST", "/api/v1/consumers/g/commit", False),
        ("POST", "/api/v1/streams", False),
        ("POST", "/v1/streams/ingest", True),
        ("GET", "/v1/streams/ingest", False),
    ],
)
def test_produce_routes(method: str, path: str, expected: bool) -> None:
    assert is_produce(method, path) is expected


async def test_a_request_over_the_cap_gets_503_and_one_under_it_passes() -> None:
    inflight = InflightBytes(1000)
    inflight.try_reserve(500)
    middleware = OverloadMiddleware(answer, inflight, max_body_bytes=1000, retry_after_s=4)
    refused = Recorder()
    await middleware(scope(), no_body, refused)
    assert refused.status == 503
    headers = dict(refused.messages[0]["headers"])
    assert headers[b"retry-after"] == b"4"
    assert orjson.loads(refused.messages[1]["body"])["code"] == 1027
    inflight.release(500)
    served = Recorder()
    await middleware(scope(), no_body, served)
    assert served.status == 201
    assert inflight.reserved == 0


async def test_undeclared_bodies_reserve_the_body_limit_and_oversize_ones_no_more() -> None:
    seen: list[int] = []
    inflight = InflightBytes(10_000)

    async def watch(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(inflight.reserved)
        await answer(scope, receive, send)

    middleware = OverloadMiddleware(watch, inflight, max_body_bytes=4000, retry_after_s=1)
    await middleware(scope(headers=[(b"transfer-encoding", b"chunked")]), no_body, Recorder())
    await middleware(scope(headers=[(b"content-length", b"999999")]), no_body, Recorder())
    await middleware(scope(headers=[(b"content-length", b"600")]), no_body, Recorder())
    assert seen == [4000, 4000, 600]
    assert inflight.reserved == 0


async def test_other_routes_are_not_counted() -> None:
    inflight = InflightBytes(1000)
    inflight.try_reserve(1000)
    middleware = OverloadMiddleware(answer, inflight, max_body_bytes=1000, retry_after_s=1)
    served = Recorder()
    await middleware(scope(path="/api/v1/consumers/g/commit"), no_body, served)
    assert served.status == 201


async def test_the_reservation_is_released_once_answered_before_the_app_returns() -> None:
    inflight = InflightBytes(1000)
    after_answer: list[int] = []

    async def answer_then_linger(scope: Scope, receive: Receive, send: Send) -> None:
        await answer(scope, receive, send)
        after_answer.append(inflight.reserved)

    await OverloadMiddleware(answer_then_linger, inflight, max_body_bytes=1000, retry_after_s=1)(
        scope(), no_body, Recorder()
    )
    assert after_answer == [0]
    assert inflight.reserved == 0


async def test_a_client_that_disconnects_mid_upload_releases_its_reservation() -> None:
    inflight = InflightBytes(1000)

    async def disconnect() -> Message:
        return {"type": "http.disconnect"}

    async def read_until_gone(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "http.disconnect"
        raise OSError("client gone")  # what a route sees as ClientDisconnect, or any error

    with pytest.raises(OSError, match="client gone"):
        await OverloadMiddleware(read_until_gone, inflight, max_body_bytes=1000, retry_after_s=1)(
            scope(), disconnect, Recorder()
        )
    assert inflight.reserved == 0


async def test_a_cancelled_request_releases_its_reservation() -> None:
    inflight = InflightBytes(1000)
    started = asyncio.Event()

    async def wait_for_kafka(scope: Scope, receive: Receive, send: Send) -> Any:
        started.set()
        await asyncio.Event().wait()

    middleware = OverloadMiddleware(wait_for_kafka, inflight, max_body_bytes=1000, retry_after_s=1)
    task = asyncio.create_task(middleware(scope(), no_body, Recorder()))
    await started.wait()
    assert inflight.reserved == 600
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert inflight.reserved == 0

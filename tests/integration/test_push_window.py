"""The resume window of push consume, driving the gateway app as an ASGI server would (httpx's ASGI transport
waits for a response to finish, which a stream never does): events older than the window are committed without
the client committing, and a Last-Event-ID older than the window falls back to its own partition."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from starlette.types import ASGIApp, Message

from tests.integration.conftest import ROOT_TOKEN, GatewayFactory
from tests.integration.consuming import NewStream, committed_in_kafka, new_group, produce_json
from tests.integration.event_streams import Event, parse_lines

pytestmark = pytest.mark.kafka

WINDOW = 100


class Connection:
    """One GET of the events route with `Accept: text/event-stream`, served by `app` in this task."""

    def __init__(self, app: ASGIApp, stream: str, group: str, last_id: str | None = None):
        headers = [(b"accept", b"text/event-stream"), (b"authorization", f"Bearer {ROOT_TOKEN}".encode())]
        if last_id is not None:
            headers.append((b"last-event-id", last_id.encode()))
        path = f"/api/v1/streams/{stream}/events"
        self.scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": f"consumerGroup={group}&offset=earliest".encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("gateway", 80),
        }
        self.status: int | None = None
        self._requested = False
        self._chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._gone = asyncio.Event()
        self._task = asyncio.create_task(app(self.scope, self._receive, self._send))

    async def _receive(self) -> Message:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self._chunks.put_nowait(message.get("body", b""))
            if not message.get("more_body", False):
                self._chunks.put_nowait(None)

    async def _lines(self) -> AsyncIterator[str]:
        pending = ""
        while (chunk := await self._chunks.get()) is not None:
            pending += chunk.decode()
            *complete, pending = pending.split("\n")
            for line in complete:
                yield line

    async def events(self, count: int) -> list[Event]:
        got: list[Event] = []
        async with asyncio.timeout(30):
            async for item in parse_lines(self._lines()):
                if isinstance(item, Event):
                    got.append(item)
                    if len(got) == count:
                        break
        return got

    async def close(self) -> None:
        self._gone.set()
        with contextlib.suppress(Exception):
            await self._task


async def committed_soon(admin: AIOKafkaAdminClient, group: str, stream: str, want: dict[int, int]) -> None:
    for _ in range(100):
        if await committed_in_kafka(admin, group, stream) == want:
            return
        await asyncio.sleep(0.1)
    assert await committed_in_kafka(admin, group, stream) == want


async def test_events_behind_the_window_are_committed_and_older_ids_resume_their_partition(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    client: httpx.AsyncClient = await make_gateway(sse_resume_window_events=WINDOW, sse_buffer_events=20)
    app: ASGIApp = client._transport.app  # type: ignore[attr-defined]
    stream = await new_stream(partitions=1)
    group = new_group()
    await produce_json(kafka_bootstrap, stream, ({"n": n} for n in range(300)), partition=0)

    first = Connection(app, stream, group)
    got = await first.events(300)
    assert first.status == 200
    assert [e.document["offset"] for e in got] == list(range(300))
    # The client never committed: the gateway did, for what is more than the window behind the newest sent.
    await committed_soon(admin, group, stream, {0: 300 - WINDOW})
    await first.close()

    # An id inside the window resumes right after it (and commits that)...
    second = Connection(app, stream, group, last_id="evt_0_250")
    assert [e.document["offset"] for e in await second.events(3)] == [251, 252, 253]
    await committed_soon(admin, group, stream, {0: 251})
    await second.close()
    # ...and one this gateway no longer knows resumes its own partition right after it.
    third = Connection(app, stream, group, last_id="evt_0_20")
    assert [e.document["offset"] for e in await third.events(2)] == [21, 22]
    await third.close()

"""The response of an event-stream connection: a consumer member's records, pushed as Server-Sent Events.

One loop (the pump) reads a batch from the member, writes it, and only then reads the next, so the gateway holds
at most one batch per connection (`sse_buffer_events` events, `sse_buffer_bytes` bytes) whatever the client's
speed. A write waits while the client does not read (uvicorn stops writing once the socket and its transport
buffer are full), and so does the member: records stay in Kafka. A client that takes nothing for
`consumer_idle_timeout_ms` is cut off, as an idle poll consumer would be.

Between batches the pump holds the member's lock for at most `_FETCH_WAIT_MS`, so a commit through
`POST /consumers/{group}/commit` waits for that at most. Every `sse_heartbeat_s` without events a comment is
sent. The stream ends when the client goes, when a newer connection takes over, when the member is closed
(`DELETE /consumers/{group}/sessions`), on an error (sent first as an `event: problem` with the problem+json
body), and at once when the gateway starts draining for shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import orjson
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from gateway import errors as ge
from gateway import sse
from gateway.kafka.sessions import ConsumerSession, Seek
from gateway.metrics import GatewayMetrics
from gateway.push_streams import PushConnection
from gateway.settings import Settings

log = logging.getLogger(__name__)

_FETCH_WAIT_MS = 500
_FINAL_WRITE_S = 1.0
RETRY_MS = 1000  # what clients wait before reconnecting after the stream ends
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx would otherwise buffer the stream
]


class EventStream(Response):
    """`start` runs before the first batch; `close` when the stream has ended (it closes the member)."""

    def __init__(
        self,
        *,
        settings: Settings,
        session: ConsumerSession,
        connection: PushConnection,
        metrics: GatewayMetrics,
        draining: asyncio.Event,
        seek: Seek | None,
        close: Callable[[], Awaitable[None]],
        instance: str,
        request_id: str,
    ):
        super().__init__(status_code=200)
        self.raw_headers = list(HEADERS)  # no content-length: the body ends when the stream does
        self._settings = settings
        self._session = session
        self._connection = connection
        self._metrics = metrics
        self._draining = draining
        self._seek = seek
        self._close = close
        self._instance = instance
        self._request_id = request_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            problem = await self._run(receive, send)
            final = b"" if problem is None else sse.event(problem, name="problem")
            with contextlib.suppress(TimeoutError, OSError):
                async with asyncio.timeout(_FINAL_WRITE_S):  # a client that stopped reading gets cut instead
                    await send({"type": "http.response.body", "body": final, "more_body": False})
        finally:
            await self._close()

    async def _run(self, receive: Receive, send: Send) -> bytes | None:
        """Pump until something ends the stream; the problem body to send last, if an error ended it."""
        pump = asyncio.ensure_future(self._pump(send))
        waits = [
            asyncio.ensure_future(_disconnected(receive)),
            asyncio.ensure_future(self._connection.stop.wait()),
            asyncio.ensure_future(self._draining.wait()),
        ]
        try:
            await asyncio.wait([pump, *waits], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, *waits):
                task.cancel()
            await asyncio.gather(pump, *waits, return_exceptions=True)
        if pump.cancelled():
            return None
        error = pump.exception()
        if error is None:
            return None
        if not isinstance(error, ge.GatewayError):
            log.error("event stream of %s/%s failed", self._session.group, self._session.stream, exc_info=error)
            error = ge.GatewayError("unexpected error; see the gateway log for this request id")
        return orjson.dumps(ge.problem_body(error, instance=self._instance, request_id=self._request_id))

    async def _pump(self, send: Send) -> None:
        settings, session, connection = self._settings, self._session, self._connection
        heartbeat_s = settings.sse_heartbeat_s
        stall_s = settings.consumer_idle_timeout_ms / 1000
        quiet_since = time.monotonic()
        started = False
        while True:
            async with session.lock:
                if session.closed:  # DELETE /consumers/{group}/sessions, or the reaper
                    raise ge.Conflict("this consumer member was closed; reconnect to get a new one")
                result = await session.poll(
                    limit=settings.sse_buffer_events,
                    timeout_ms=_FETCH_WAIT_MS,
                    max_bytes=settings.sse_buffer_bytes,
                    seek=self._seek,
                    auto_commit=False,
                )
            if not started:
                # The member holds its partitions and knows its positions: what is produced from now on arrives.
                await self._write(send, sse.retry(RETRY_MS) + sse.comment("connected"), stall_s)
                started = True
            self._seek = None
            # A rebalance puts a partition back at its committed offset, which is behind what this connection has
            # sent (it commits only on resume and behind the window): what was sent already is skipped.
            sent = connection.log.next_offsets
            events = [e for e in result.events if e.offset >= sent.get(e.partition, 0)]
            if not events:
                connection.log.started(result.positions)
                if time.monotonic() - quiet_since >= heartbeat_s:
                    await self._write(send, sse.comment("heartbeat"), stall_s)
                    quiet_since = time.monotonic()
                continue
            connection.buffered = len(events)
            firsts: dict[int, int] = {}
            for item in events:
                firsts.setdefault(item.partition, item.offset)
            connection.log.started({**result.positions, **firsts})
            # Logged before the write: a record logged but never written is after anything a client can name.
            folded = connection.log.sent((item.partition, item.offset) for item in events)
            frames = b"".join(sse.event(item.body, event_id=item.event_id) for item in events)
            await self._write(send, frames, stall_s)
            connection.buffered = 0
            self._metrics.consumed(session.stream, len(events), sum(len(item.body) for item in events))
            if folded:
                await self._commit_folded(folded)
            quiet_since = time.monotonic()

    async def _write(self, send: Send, body: bytes, stall_s: float) -> None:
        self._connection.writing = True
        try:
            async with asyncio.timeout(stall_s):
                await send(_body(body))
        except TimeoutError:
            raise ge.RequestTimeout(f"the client read nothing for {stall_s:g} s") from None
        finally:
            self._connection.writing = False

    async def _commit_folded(self, folded: dict[int, int]) -> None:
        """Commit what left the resume window, never moving a partition's committed offset back."""
        session = self._session
        ahead = {p: o for p, o in folded.items() if o > (session.committed_at(p) or -1)}
        if ahead:
            async with session.lock:
                await session.commit(ahead)


def _body(chunk: bytes) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": True}


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass

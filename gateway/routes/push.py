"""Push consume: `GET /api/v1/streams/{stream}/events` with `Accept: text/event-stream` streams a consumer-group
member's records as Server-Sent Events; without that Accept header the same route is the JSON poll.

Each record is one event: `id:` its event id (`evt_<partition>_<offset>`, as everywhere in the API), `data:` the
event document a poll returns. The member is made for the connection and leaves its group when it ends.

Commits. The gateway commits an event-stream member's offsets at two moments only:
- on reconnect: a connection that sends `Last-Event-ID` (or `lastEventId`) first commits, for every partition it
  holds, the offset right after the last event the previous connection sent before that one (kept per group and
  stream in a resume log, `gateway.resume_log`), and reads on from there. What the client saw is committed, and
  what it did not see comes again, once, in order.
- behind the window: once more than `sse_resume_window_events` events were sent after an event, it is taken as
  delivered and committed (never moving a committed offset back), so a client that never reconnects still has
  its group advance.
A connection without `Last-Event-ID` starts from the group's committed offsets (or `offset` for a group without
any). Explicit commits (`POST /api/v1/consumers/{group}/commit`) go through the connection's member.

A `Last-Event-ID` this gateway has no log for (another gateway sent it, the gateway restarted, or it is older than
the window) resumes its own partition right after it and every other from the group's committed offsets.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway import event_ids, queryparams, sse
from gateway.authorization import Endpoint
from gateway.context import GatewayContext, context, request_id
from gateway.event_ids import EventPosition
from gateway.event_stream import EventStream
from gateway.push_streams import PushStreams
from gateway.tenancy import namespace

log = logging.getLogger(__name__)


def negotiated(poll: Endpoint) -> Endpoint:
    """`poll` for JSON clients, the event stream for those whose Accept header asks for one."""

    async def events(request: Request) -> Response:
        # HEAD stays a poll: a stream whose body is never sent would hold a member until the client left.
        if request.method == "GET" and sse.wants_event_stream(request.headers.get("accept")):
            return await open_stream(request)
        response = await poll(request)
        response.headers.append("vary", "accept")
        return response

    return events


def _last_seen(request: Request) -> EventPosition | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("lastEventId")
    if not raw:
        return None
    position = event_ids.decode(raw.strip())
    if position is None:
        raise ge.InvalidOffset(f"Last-Event-ID {raw!r} is not an event id (evt_<partition>_<offset>)")
    return position


async def _check_seen(ctx: GatewayContext, stream: str, partitions: int, seen: EventPosition) -> None:
    if seen.partition >= partitions:
        raise ge.InvalidOffset(f"Last-Event-ID names partition {seen.partition}; the stream has {partitions}")
    _, end = (await ctx.kafka.admin.offset_range(stream, [seen.partition]))[seen.partition]
    if seen.offset >= end:
        raise ge.InvalidOffset(f"Last-Event-ID names offset {seen.offset}; partition {seen.partition} ends at {end}")


async def open_stream(request: Request) -> Response:
    ctx = context(request)
    params, ns = request.query_params, namespace(request)
    stream = ns.topic(request.path_params["stream"])
    group = ns.group(queryparams.required(params, "consumerGroup"), create=True)
    offset = queryparams.offset(params)
    seen = _last_seen(request)
    ctx.kafka.require_ready()
    partitions, _ = await ctx.kafka.admin.limits(stream)
    if seen is not None:
        await _check_seen(ctx, stream, partitions, seen)
    push: PushStreams = request.app.state.push
    sessions = ctx.kafka.sessions
    async with push.opening(group, stream) as (connection, previous):
        initial = offset if isinstance(offset, str) else "latest"
        session, created = await sessions.get_or_create(group, stream, initial, pushed=True)
        if not created:
            raise ge.Conflict(
                "a poll consumer of this group holds this stream on this gateway; close it with "
                "DELETE /api/v1/consumers/{group}/sessions or use another group"
            )
        session.own_positions = lambda: connection.log.next_offsets
        try:
            if seen is not None:
                resumed = previous.resume_at(seen) if previous is not None else None
                async with session.lock:
                    await session.resume(resumed or {seen.partition: seen.offset + 1})
        except BaseException:
            await sessions.close(session)
            raise

    async def close() -> None:
        try:
            async with session.lock:
                await sessions.close(session)
        except Exception:
            log.exception("closing the event-stream member %s/%s failed", group, stream)
        finally:
            push.ended(connection)

    return EventStream(
        settings=ctx.settings,
        session=session,
        connection=connection,
        metrics=ctx.metrics,
        draining=sessions.draining,
        seek=offset if isinstance(offset, int) and seen is None else None,
        close=close,
        instance=request.url.path,
        request_id=request_id(request),
    )

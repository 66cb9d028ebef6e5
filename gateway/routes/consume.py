"""Reading events: consumer-group polls (seed 003), one event by id (seed 004), partition replay, offsets by time."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway import event_ids, queryparams
from gateway.context import context
from gateway.event_lookup import lookup
from gateway.parameters import read_parameters
from gateway.records import Rendered, render
from gateway.responses import JSONResponse
from gateway.tenancy import namespace
from gateway.timefmt import iso_ms

_LOCK_GRACE_S = 30.0


async def poll(request: Request) -> Response:
    ctx = context(request)
    settings, params = ctx.settings, request.query_params
    ns = namespace(request)
    stream = ns.topic(request.path_params["stream"])
    group_name = queryparams.required(params, "consumerGroup")
    group = ns.group(group_name, create=True)
    bounds = read_parameters(settings)
    limit, timeout_ms, max_bytes = (
        bounds.limit.read(params),
        bounds.timeout_ms.read(params),
        bounds.max_bytes.read(params),
    )
    auto_commit = queryparams.boolean(params, "autoCommit", default=False)
    offset = queryparams.offset(params)
    ctx.kafka.require_ready()
    await ctx.kafka.admin.limits(stream)

    sessions = ctx.kafka.sessions
    initial = offset if isinstance(offset, str) else "latest"
    session, created = await sessions.get_or_create(group, stream, initial)
    if session.pushed:
        raise ge.Conflict("an event-stream connection holds this group's member for this stream on this gateway")
    # A new member starts where `offset` says only if the group has no commits (Kafka's reset policy); a number,
    # or any offset on a later poll, is an explicit seek.
    seek = offset if isinstance(offset, int) or not created else None
    try:
        async with asyncio.timeout(timeout_ms / 1000 + _LOCK_GRACE_S):
            await session.lock.acquire()
    except TimeoutError:
        raise ge.Conflict("another poll on this consumer member is still running") from None
    try:
        if session.closed:
            raise ge.Conflict("this consumer member was just closed; poll again to create a new one")
        result = await session.poll(
            limit=limit, timeout_ms=timeout_ms, max_bytes=max_bytes, seek=seek, auto_commit=auto_commit
        )
    finally:
        session.lock.release()
    if result.events:
        ctx.metrics.consumed(stream, len(result.events), result.size_bytes)
    positions = result.positions
    metadata = {
        "consumerGroup": group_name,
        "lag": result.lag,
        "nextOffset": next(iter(positions.values())) if len(positions) == 1 else None,
        "nextOffsets": {str(p): o for p, o in positions.items()},
        "assignedPartitions": sorted(positions),
    }
    return JSONResponse({"events": [e.fragment for e in result.events], "metadata": metadata})


async def existing_partition(request: Request, stream: str, partition: int) -> int:
    partitions, _ = await context(request).kafka.admin.limits(stream)
    if not 0 <= partition < partitions:
        raise ge.PartitionNotFound(f"partition {partition} does not exist; stream {stream!r} has {partitions}")
    return partition


async def get_event(request: Request) -> Response:
    ctx = context(request)
    stream = namespace(request).topic(request.path_params["stream"])
    event_id = request.path_params["event_id"]
    position = event_ids.decode(event_id)
    ctx.kafka.require_ready()
    await ctx.kafka.admin.limits(stream)  # an unknown stream is 404 STREAM_NOT_FOUND, whatever the id
    record = None if position is None else await lookup(ctx.kafka, stream, position.partition, position.offset)
    if record is None:
        raise ge.EventNotFound(f"event {event_id!r} does not exist in stream {stream!r}")
    return JSONResponse(render(record).fragment)


async def read_partition(request: Request) -> Response:
    ctx = context(request)
    settings, params = ctx.settings, request.query_params
    stream = namespace(request).topic(request.path_params["stream"])
    bounds = read_parameters(settings)
    limit, timeout_ms = bounds.limit.read(params), bounds.timeout_ms.read(params)
    offset = queryparams.offset(params) or "earliest"
    ctx.kafka.require_ready()
    partition = await existing_partition(request, stream, request.path_params["partition"])
    start, end = (await ctx.kafka.admin.offset_range(stream, [partition]))[partition]
    if offset == "earliest":
        offset = start
    elif offset == "latest":
        offset = end
    assert isinstance(offset, int)  # noqa: S101 - narrowed by the branches above
    if not start <= offset <= end:
        raise ge.InvalidOffset(f"offset {offset} is outside partition {partition}'s range [{start}, {end}]")
    records = await ctx.kafka.groups.read(stream, partition, offset, limit, timeout_ms)
    events: list[Rendered] = []
    used = 0
    for record in records:
        event = render(record)
        if events and used + event.size > settings.consume_max_bytes:
            break
        events.append(event)
        used += event.size
    if events:
        ctx.metrics.consumed(stream, len(events), used)
    next_offset = events[-1].offset + 1 if events else offset
    return JSONResponse({"events": [e.fragment for e in events], "nextOffset": next_offset})


async def offsets_for_time(request: Request) -> Response:
    ctx = context(request)
    stream = namespace(request).topic(request.path_params["stream"])
    when_ms = queryparams.timestamp(request.query_params)
    ctx.kafka.require_ready()
    partitions, _ = await ctx.kafka.admin.limits(stream)
    found = await ctx.kafka.admin.offsets_for_time(stream, list(range(partitions)), when_ms)
    offsets = []
    for partition in range(partitions):
        hit = found.get(partition)
        offsets.append(
            {
                "partition": partition,
                "offset": None if hit is None else hit[0],
                "timestamp": None if hit is None else iso_ms(hit[1]),
            }
        )
    return JSONResponse({"stream": request.path_params["stream"], "timestamp": iso_ms(when_ms), "offsets": offsets})

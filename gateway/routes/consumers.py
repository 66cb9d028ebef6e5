"""Offset commits (seed 003) and consumer-group administration."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway.authorization import require_stream
from gateway.bodies import parse_model, read_body
from gateway.context import GatewayContext, context
from gateway.principal import principal
from gateway.responses import JSONResponse
from gateway.tenancy import namespace
from schemas.consumers import CommitRequest, ResetRequest


async def _checked_offsets(ctx: GatewayContext, stream: str, offsets: dict[int, int]) -> None:
    """404 for an unknown stream or partition, 400 for an offset outside what the partition holds."""
    partitions, _ = await ctx.kafka.admin.limits(stream)
    unknown = sorted(p for p in offsets if p >= partitions)
    if unknown:
        raise ge.PartitionNotFound(f"stream {stream!r} has {partitions} partitions; no partition {unknown[0]}")
    ranges = await ctx.kafka.admin.offset_range(stream, sorted(offsets))
    for partition, offset in offsets.items():
        start, end = ranges[partition]
        if not start <= offset <= end:
            raise ge.InvalidOffset(f"offset {offset} is outside partition {partition}'s range [{start}, {end}]")


async def commit(request: Request) -> Response:
    ctx = context(request)
    ns, who = namespace(request), principal(request)
    group = ns.group(request.path_params["group"])
    body = parse_model(CommitRequest, await read_body(request, ctx.settings.max_body_bytes))
    by_stream: dict[str, dict[int, int]] = defaultdict(dict)
    for item in body.offsets:
        require_stream(who, item.stream)
        by_stream[ns.topic(item.stream)][item.partition] = item.offset
    ctx.kafka.require_ready()
    await ctx.kafka.groups.describe(group)
    for stream, offsets in by_stream.items():
        await _checked_offsets(ctx, stream, offsets)
    for stream, offsets in by_stream.items():
        session = ctx.kafka.sessions.find(group, stream)
        if session is None:
            await ctx.kafka.groups.commit_without_member(group, stream, offsets)
            continue
        async with session.lock:
            await session.commit(offsets)
    committed = [{"stream": o.stream, "partition": o.partition, "offset": o.offset} for o in body.offsets]
    return JSONResponse({"status": "committed", "committedOffsets": committed})


async def list_groups(request: Request) -> Response:
    ctx = context(request)
    ns = namespace(request)
    ctx.kafka.require_ready()
    # Only visible groups are described: another tenant's group ids never reach this response.
    groups = await ctx.kafka.groups.list_groups(ns.group_name)
    listed = [{"groupId": ns.group_name(g.group_id), "state": g.state, "members": len(g.members)} for g in groups]
    return JSONResponse({"consumerGroups": listed})


async def describe_group(request: Request) -> Response:
    ctx = context(request)
    ns = namespace(request)
    name = request.path_params["group"]
    group = ns.group(name)
    ctx.kafka.require_ready()
    info = await ctx.kafka.groups.describe(group)
    committed = await ctx.kafka.groups.committed(group)
    # Kafka drops a deleted topic's offsets from its groups a little after the deletion; until then they name
    # partitions whose offsets no one can read, and asking would wait out the request timeout.
    counts = await ctx.kafka.admin.partition_counts(sorted({stream for stream, _ in committed}))
    by_stream: dict[str, list[int]] = defaultdict(list)
    for stream, partition in committed:
        if partition < counts.get(stream, 0):
            by_stream[stream].append(partition)
    offsets: list[dict[str, Any]] = []
    total_lag = 0
    for stream in sorted(by_stream):
        ranges = await ctx.kafka.admin.offset_range(stream, sorted(by_stream[stream]))
        for partition in sorted(by_stream[stream]):
            end = ranges[partition][1]
            lag = max(0, end - committed[(stream, partition)])
            total_lag += lag
            offsets.append(
                {
                    "stream": ns.stream(stream) or stream,
                    "partition": partition,
                    "committedOffset": committed[(stream, partition)],
                    "endOffset": end,
                    "lag": lag,
                }
            )
    members = [
        {
            "memberId": m.member_id,
            "clientId": m.client_id,
            "host": m.host,
            "assignments": [{"stream": ns.stream(s) or s, "partition": p} for s, p in m.assignments],
        }
        for m in info.members
    ]
    document = {"groupId": name, "state": info.state, "members": members, "offsets": offsets, "lag": total_lag}
    return JSONResponse(document)


async def reset(request: Request) -> Response:
    ctx = context(request)
    ns = namespace(request)
    name = request.path_params["group"]
    group = ns.group(name)
    body = parse_model(ResetRequest, await read_body(request, ctx.settings.max_body_bytes))
    require_stream(principal(request), body.stream)
    stream = ns.topic(body.stream)
    ctx.kafka.require_ready()
    partitions, _ = await ctx.kafka.admin.limits(stream)
    await ctx.kafka.groups.require_inactive(group)
    every = list(range(partitions))
    ranges = await ctx.kafka.admin.offset_range(stream, every)
    if body.to == "earliest":
        targets = {p: ranges[p][0] for p in every}
    elif body.to == "latest":
        targets = {p: ranges[p][1] for p in every}
    elif body.to == "timestamp":
        assert body.timestamp is not None  # noqa: S101 - enforced by ResetRequest
        found = await ctx.kafka.admin.offsets_for_time(stream, every, body.timestamp)
        targets = {p: ranges[p][1] if found[p] is None else found[p][0] for p in every}  # type: ignore[index]
    else:
        assert body.offset is not None  # noqa: S101 - enforced by ResetRequest
        targets = dict.fromkeys(every, body.offset)
        await _checked_offsets(ctx, stream, targets)
    await ctx.kafka.groups.commit_without_member(group, stream, targets)
    offsets = [{"stream": body.stream, "partition": p, "offset": o} for p, o in sorted(targets.items())]
    return JSONResponse({"status": "reset", "groupId": name, "offsets": offsets})


async def delete_group(request: Request) -> Response:
    ctx = context(request)
    name = request.path_params["group"]
    group = namespace(request).group(name)
    ctx.kafka.require_ready()
    await ctx.kafka.groups.delete(group)
    return JSONResponse({"status": "deleted", "groupId": name})


async def close_sessions(request: Request) -> Response:
    ctx = context(request)
    name = request.path_params["group"]
    ns = namespace(request)
    topics = await ctx.kafka.sessions.close_group(ns.group(name))
    streams = sorted({stream for topic in topics if (stream := ns.stream(topic)) is not None})
    return JSONResponse({"status": "closed", "groupId": name, "closedSessions": len(topics), "streams": streams})

"""Offset commits (seed 003) and consumer-group administration."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway.bodies import parse_model, read_body
from gateway.context import GatewayContext, context
from gateway.names import validate_group_name, validate_stream_name
from gateway.responses import JSONResponse
from schemas.consumers import CommitRequest, ResetRequest


async def _checked_offsets(ctx: GatewayContext, stream: str, offsets: dict[int, int]) -> None:
    """404 for an unknown stream or partition, 400 for an offset outside what the partition holds."""
    partitions, _ = await ctx.kafka.admin.limits(validate_stream_name(stream))
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
    group = validate_group_name(request.path_params["group"])
    body = parse_model(CommitRequest, await read_body(request, ctx.settings.max_body_bytes))
    ctx.kafka.require_ready()
    by_stream: dict[str, dict[int, int]] = defaultdict(dict)
    for item in body.offsets:
        by_stream[item.stream][item.partition] = item.offset
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
    ctx.kafka.require_ready()
    groups = await ctx.kafka.groups.list_groups()
    return JSONResponse(
        {"consumerGroups": [{"groupId": g.group_id, "state": g.state, "members": len(g.members)} for g in groups]}
    )


async def describe_group(request: Request) -> Response:
    ctx = context(request)
    group = validate_group_name(request.path_params["group"])
    ctx.kafka.require_ready()
    info = await ctx.kafka.groups.describe(group)
    committed = await ctx.kafka.groups.committed(group)
    by_stream: dict[str, list[int]] = defaultdict(list)
    for stream, partition in committed:
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
                    "stream": stream,
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
            "assignments": [{"stream": s, "partition": p} for s, p in m.assignments],
        }
        for m in info.members
    ]
    document = {"groupId": group, "state": info.state, "members": members, "offsets": offsets, "lag": total_lag}
    return JSONResponse(document)


async def reset(request: Request) -> Response:
    ctx = context(request)
    group = validate_group_name(request.path_params["group"])
    body = parse_model(ResetRequest, await read_body(request, ctx.settings.max_body_bytes))
    stream = validate_stream_name(body.stream)
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
    offsets = [{"stream": stream, "partition": p, "offset": o} for p, o in sorted(targets.items())]
    return JSONResponse({"status": "reset", "groupId": group, "offsets": offsets})


async def delete_group(request: Request) -> Response:
    ctx = context(request)
    group = validate_group_name(request.path_params["group"])
    ctx.kafka.require_ready()
    await ctx.kafka.groups.delete(group)
    return JSONResponse({"status": "deleted", "groupId": group})


async def close_sessions(request: Request) -> Response:
    ctx = context(request)
    group = validate_group_name(request.path_params["group"])
    closed = await ctx.kafka.sessions.close_group(group)
    return JSONResponse({"status": "closed", "groupId": group, "closedSessions": closed})

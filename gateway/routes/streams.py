"""Stream administration: create, list, describe, alter and delete streams (seed 003)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway.bodies import parse_model, read_body
from gateway.context import context
from gateway.kafka.admin import StreamInfo
from gateway.names import validate_stream_name
from gateway.responses import JSONResponse
from gateway.timefmt import now_iso
from schemas.streams import StreamCreate, StreamPatch, config_from_kafka


def broker(node_id: int) -> str:
    return f"broker-{node_id}"


def stream_document(info: StreamInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "partitions": len(info.partitions),
        "replicationFactor": info.replication_factor,
        "totalMessages": sum(p.end_offset - p.start_offset for p in info.partitions),
        "totalSize": sum(p.size_bytes for p in info.partitions),
        "config": config_from_kafka(info.configs),
        "partitionDetails": [
            {
                "partition": p.partition,
                "leader": broker(p.leader),
                "replicas": [broker(r) for r in p.replicas],
                "inSyncReplicas": [broker(r) for r in p.isr],
                "startOffset": p.start_offset,
                "endOffset": p.end_offset,
                "sizeBytes": p.size_bytes,
            }
            for p in info.partitions
        ],
    }


async def create_stream(request: Request) -> Response:
    ctx = context(request)
    spec = parse_model(StreamCreate, await read_body(request, ctx.settings.max_body_bytes))
    name = validate_stream_name(spec.name)
    ctx.kafka.require_ready()
    await ctx.kafka.admin.create(name, spec.partitions, spec.replicationFactor, spec.config.to_kafka())
    info = await ctx.kafka.admin.describe(name)
    return JSONResponse(stream_document(info), status_code=201, headers={"location": f"/api/v1/streams/{name}"})


async def list_streams(request: Request) -> Response:
    ctx = context(request)
    params = request.query_params
    raw_limit = params.get("limit", "100")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= ctx.settings.streams_page_size_max:
        raise ge.ValidationFailed(
            "invalid limit",
            [{"field": "limit", "message": f"must be an integer in 1..{ctx.settings.streams_page_size_max}"}],
        )
    limit, after = int(raw_limit), params.get("after", "")
    ctx.kafka.require_ready()
    names = [n for n in await ctx.kafka.admin.list_names() if n > after]
    page = names[:limit]
    document: dict[str, Any] = {"streams": [{"name": n} for n in page], "nextAfter": None}
    if len(names) > limit:
        document["nextAfter"] = page[-1]
    return JSONResponse(document)


async def get_stream(request: Request) -> Response:
    ctx = context(request)
    name = request.path_params["stream"]
    ctx.kafka.require_ready()
    return JSONResponse(stream_document(await ctx.kafka.admin.describe(name)))


async def patch_stream(request: Request) -> Response:
    ctx = context(request)
    name = request.path_params["stream"]
    patch = parse_model(StreamPatch, await read_body(request, ctx.settings.max_body_bytes))
    ctx.kafka.require_ready()
    await ctx.kafka.admin.alter(name, patch.config.to_kafka(), patch.partitions)
    return JSONResponse(stream_document(await ctx.kafka.admin.describe(name)))


async def delete_stream(request: Request) -> Response:
    ctx = context(request)
    name = validate_stream_name(request.path_params["stream"])
    ctx.kafka.require_ready()
    await ctx.kafka.admin.delete(name)
    return JSONResponse({"status": "deleted", "streamName": name, "deletedAt": now_iso()})

"""Stream administration: create, list, describe, alter and delete streams (seed 003)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway.bodies import parse_model, read_body
from gateway.context import context
from gateway.kafka.admin import StreamInfo
from gateway.parameters import read_parameters
from gateway.responses import JSONResponse
from gateway.tenancy import namespace
from gateway.timefmt import now_iso
from schemas.streams import StreamCreate, StreamPatch, config_from_kafka


def broker(node_id: int) -> str:
    return f"broker-{node_id}"


def stream_document(info: StreamInfo, name: str) -> dict[str, Any]:
    """The stream as its owner sees it: `name` is the stream's name in the caller's namespace."""
    return {
        "name": name,
        "streamId": None if info.topic_id is None else str(info.topic_id),
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


def _writable(min_insync: int | None, replication_factor: int) -> None:
    """A stream that needs more in-sync replicas than it has replicas refuses every write: refuse it first."""
    if min_insync is not None and min_insync > replication_factor:
        message = f"must be at most the replication factor ({replication_factor}), or no write could succeed"
        raise ge.ValidationFailed(
            f"config.minInsyncReplicas {message}", [{"field": "config.minInsyncReplicas", "message": message}]
        )


def _within_partition_limit(partitions: int | None, limit: int) -> None:
    if partitions is not None and partitions > limit:
        message = f"must be at most {limit} (KAFKAGATE_STREAM_MAX_PARTITIONS)"
        raise ge.ValidationFailed(f"partitions {message}", [{"field": "partitions", "message": message}])


async def create_stream(request: Request) -> Response:
    ctx = context(request)
    spec = parse_model(StreamCreate, await read_body(request, ctx.settings.max_body_bytes))
    _within_partition_limit(spec.partitions, ctx.settings.stream_max_partitions)
    _writable(spec.config.minInsyncReplicas, spec.replicationFactor)
    topic = namespace(request).topic(spec.name, write=True)
    ctx.kafka.require_ready()
    await ctx.kafka.admin.create(topic, spec.partitions, spec.replicationFactor, spec.config.to_kafka())
    info = await ctx.kafka.admin.describe(topic)
    location = f"/api/v1/streams/{spec.name}"
    return JSONResponse(stream_document(info, spec.name), status_code=201, headers={"location": location})


async def list_streams(request: Request) -> Response:
    ctx = context(request)
    params = request.query_params
    limit, after = read_parameters(ctx.settings).page_limit.read(params), params.get("after", "")
    ctx.kafka.require_ready()
    space = namespace(request)
    names = [n for n in space.visible(await ctx.kafka.admin.list_names()) if n > after]
    page = names[:limit]
    topics = {n: space.topic(n) for n in page}
    ids = await ctx.kafka.admin.topic_ids.ids_of(list(topics.values()))

    def entry(name: str) -> dict[str, Any]:
        topic_id = ids.get(topics[name])  # None: deleted between the listing and the lookup
        return {"name": name, "streamId": None if topic_id is None else str(topic_id)}

    document: dict[str, Any] = {"streams": [entry(n) for n in page], "nextAfter": None}
    if len(names) > limit:
        document["nextAfter"] = page[-1]
    return JSONResponse(document)


async def get_stream(request: Request) -> Response:
    ctx = context(request)
    name = request.path_params["stream"]
    topic = namespace(request).topic(name)
    ctx.kafka.require_ready()
    return JSONResponse(stream_document(await ctx.kafka.admin.describe(topic), name))


async def patch_stream(request: Request) -> Response:
    ctx = context(request)
    name = request.path_params["stream"]
    topic = namespace(request).topic(name, write=True)
    patch = parse_model(StreamPatch, await read_body(request, ctx.settings.max_body_bytes))
    _within_partition_limit(patch.partitions, ctx.settings.stream_max_partitions)
    ctx.kafka.require_ready()
    if patch.config.minInsyncReplicas is not None:
        _writable(patch.config.minInsyncReplicas, (await ctx.kafka.admin.describe(topic)).replication_factor)
    await ctx.kafka.admin.alter(topic, patch.config.to_kafka(), patch.partitions)
    return JSONResponse(stream_document(await ctx.kafka.admin.describe(topic), name))


async def delete_stream(request: Request) -> Response:
    ctx = context(request)
    name = request.path_params["stream"]
    topic = namespace(request).topic(name, write=True)
    ctx.kafka.require_ready()
    await ctx.kafka.admin.delete(topic)
    await ctx.publisher.schemas.forget(topic)
    return JSONResponse({"status": "deleted", "streamName": name, "deletedAt": now_iso()})

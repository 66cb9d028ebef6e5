"""Stream schemas: `PUT`, `GET` and `DELETE /api/v1/streams/{stream}/schema` (admin scope).

A schema belongs to the stream's Kafka topic, so each tenant's streams have their own; another tenant's
schema answers 404 like any name it cannot see.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway.bodies import parse_model, read_body
from gateway.context import context
from gateway.names import MAX_LENGTH
from gateway.responses import JSONResponse
from gateway.tenancy import namespace
from schemas.dead_letters import dlq_topic
from schemas.stream_schemas import StreamSchemaPut, StreamSchemaRecord


def document(stream: str, record: StreamSchemaRecord) -> dict[str, Any]:
    """The schema as the API shows it; `stream` as the caller names it."""
    return {
        "stream": stream,
        "schema": record.document,
        "onInvalid": record.onInvalid,
        "version": record.version,
        "updatedAt": record.updatedAt,
    }


async def put_schema(request: Request) -> Response:
    ctx = context(request)
    name = request.path_params["stream"]
    topic = namespace(request).topic(name, write=True)
    spec = parse_model(StreamSchemaPut, await read_body(request, ctx.settings.max_body_bytes))
    if spec.onInvalid == "deadLetter" and len(dlq_topic(topic)) > MAX_LENGTH:
        raise ge.ValidationFailed(
            "the stream's name is too long for a dead-letter stream beside it",
            [{"field": "onInvalid", "message": f"{dlq_topic(name)!r} would exceed {MAX_LENGTH} characters"}],
        )
    await ctx.publisher.limits(topic)  # 404 STREAM_NOT_FOUND before anything is written
    record = await ctx.publisher.schemas.put(topic, spec.document, spec.onInvalid)
    return JSONResponse(document(name, record))


async def get_schema(request: Request) -> Response:
    ctx = context(request)
    name = request.path_params["stream"]
    topic = namespace(request).topic(name)
    ctx.kafka.require_ready()
    return JSONResponse(document(name, await ctx.publisher.schemas.get(topic)))


async def delete_schema(request: Request) -> Response:
    ctx = context(request)
    name = request.path_params["stream"]
    topic = namespace(request).topic(name, write=True)
    ctx.kafka.require_ready()
    return JSONResponse(document(name, await ctx.publisher.schemas.delete(topic)))

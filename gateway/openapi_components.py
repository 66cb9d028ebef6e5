"""The shared parts of `/openapi.json`: component schemas (from the pydantic shapes that validate requests), the
problem document, the response header fields and the bearer scheme."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter

from gateway import errors as ge
from gateway.seeds import intake_openapi, lake_openapi, logs_openapi
from schemas.consumers import CommitRequest, ResetRequest
from schemas.events import BATCH, EVENT
from schemas.ingest import INGEST_BODY, IngestAccepted, IngestError
from schemas.keys import KeyCreate, TokenRequest
from schemas.processors import ProcessorSpec
from schemas.stream_documents import StreamDocument, StreamList
from schemas.stream_schemas import StreamSchemaPut
from schemas.streams import StreamCreate, StreamPatch
from schemas.tenants import TenantCreate

# Component name -> the shape it documents; `Operation.body` and `Operation.returns` name these.
SCHEMAS: dict[str, TypeAdapter[Any] | type[BaseModel]] = {
    "EventIn": EVENT,
    "BatchIn": BATCH,
    "StreamCreate": StreamCreate,
    "StreamPatch": StreamPatch,
    "CommitRequest": CommitRequest,
    "ResetRequest": ResetRequest,
    "ProcessorSpec": ProcessorSpec,
    "KeyCreate": KeyCreate,
    "TenantCreate": TenantCreate,
    "TokenRequest": TokenRequest,
    "StreamDocument": TypeAdapter(StreamDocument),
    "StreamList": TypeAdapter(StreamList),
    "IngestBody": INGEST_BODY,
    "IngestAccepted": IngestAccepted,
    "IngestError": IngestError,
    "StreamSchemaPut": StreamSchemaPut,
}

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details, plus kafkagate's numeric code, symbolic error and request id.",
    "required": ["type", "title", "status", "detail", "instance", "code", "error", "request_id"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "integer", "enum": sorted({cls.code for cls in ge.ALL_ERRORS})},
        "error": {"type": "string", "enum": sorted({cls.error for cls in ge.ALL_ERRORS})},
        "request_id": {"type": "string"},
        "retriable": {"type": "boolean"},
        "errors": {
            "type": "array",
            "items": {"type": "object"},
            "description": "each invalid field (422); for SCHEMA_VIOLATION each violation, its `field` the JSON "
            "pointer (RFC 6901) into the event's value, with `keyword` and `message`",
        },
        "violated-policies": {
            "type": "array",
            "items": {"type": "string", "enum": ["default", "bytes"]},
            "description": "the RateLimit policies that refused the request (429)",
        },
    },
}

# Response header fields; RateLimit-Policy and RateLimit follow draft-ietf-httpapi-ratelimit-headers-11.
HEADERS: dict[str, Any] = {
    "Retry-After": {
        "description": "whole seconds (at least 1) to wait before retrying",
        "schema": {"type": "integer", "minimum": 1},
    },
    "RateLimit-Policy": {
        "description": 'the key\'s quotas per gateway process: `"default";q=<requests>;w=1` and '
        '`"bytes";q=<body bytes>;qu="content-bytes";w=1` (only the limited ones; absent when none is)',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": "what remains of each quota and the seconds until it is whole again: "
        '`"default";r=<remaining>;t=<seconds>`',
        "schema": {"type": "string"},
    },
}
RATELIMIT_HEADERS = {name: {"$ref": f"#/components/headers/{name}"} for name in ("RateLimit-Policy", "RateLimit")}
RETRY_AFTER = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}

SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "an API key token (kg_...), an access token from /auth/token, or the root token",
    }
}


def _schema(source: TypeAdapter[Any] | type[BaseModel]) -> dict[str, Any]:
    ref_template = "#/components/schemas/{model}"
    if isinstance(source, TypeAdapter):
        return source.json_schema(ref_template=ref_template, by_alias=True)
    return source.model_json_schema(ref_template=ref_template, by_alias=True)


def _cap_partitions(schema: dict[str, Any], limit: int) -> None:
    """Lower the `partitions` bound of a stream create or patch schema to the gateway's own limit."""
    partitions = schema["properties"]["partitions"]
    for variant in partitions.get("anyOf", [partitions]):
        if variant.get("type") == "integer":
            variant["maximum"] = min(variant["maximum"], limit)


def components(max_partitions: int) -> dict[str, Any]:
    """`components` of the document: schemas (nested models flattened in), headers and security schemes.
    `max_partitions` is the gateway's KAFKAGATE_STREAM_MAX_PARTITIONS."""
    schemas: dict[str, Any] = {
        "Problem": PROBLEM,
        **intake_openapi.SCHEMAS,
        **logs_openapi.SCHEMAS,
        **lake_openapi.SCHEMAS,
    }
    for name, source in SCHEMAS.items():
        schema = _schema(source)
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    for name in ("StreamCreate", "StreamPatch"):
        _cap_partitions(schemas[name], max_partitions)
    return {"schemas": schemas, "headers": HEADERS, "securitySchemes": SECURITY_SCHEMES}

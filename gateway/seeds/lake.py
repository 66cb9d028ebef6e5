"""The lake API (seed 000): tenants, a schema registry, datasets on Apache Iceberg, collect, and previews.

An adapter: it maps the document's fields and statuses onto the shared services (tenants, publishing, the lake
services in `gateway.lake`) and answers errors in its envelope (`gateway.seeds.lake_envelope`).

- `POST /v1/tenants` (root only) creates the same tenant the native API does, its Iceberg namespace
  (`pulse_<id without dashes>`), and its raw and dead-letter streams: the document's `pulse.{tenant}.events.raw`
  and `.events.dlq` are `_t.<slug>.events.raw` and `_t.<slug>.events.raw.dlq` in Kafka (the tenant sees them as
  `events.raw` and `events.raw.dlq`).
- Everything else acts for the tenant of `X-Tenant-ID` (id or slug) or of a tenant-bound key; another tenant's
  schemas and datasets are 404.
- `POST /v1/collect` validates the payload against the schema's composition (422 per violation, and for a schema
  the tenant cannot see or that is a draft), writes the raw event keyed by `event_id` (so one id keeps one
  partition, in order) and answers 202 once Kafka acknowledged it from every in-sync replica.
"""

from __future__ import annotations

from typing import Any

import uuid6
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import errors as ge
from gateway.authorization import guarded, require_root
from gateway.bodies import parse_model, read_body
from gateway.context import context
from gateway.kafka.producer import OutgoingRecord
from gateway.lake.services import LakeServices
from gateway.parameters import read_parameters
from gateway.principal import principal
from gateway.provisioning import ensure_stream
from gateway.publishing import Submission
from gateway.record_stamps import stamps
from gateway.responses import JSONResponse
from gateway.tenancy import Namespace, tenant_prefix
from gateway.timefmt import now_iso, now_ms
from processors.lake.event_time import parse_timestamp
from schemas import dead_letters as dl
from schemas.lake import RAW_STREAM, CollectRequest, DatasetCreate, RawEvent, SchemaCreate, SchemaPatch
from schemas.tenants import TenantCreate


def lake(request: Request) -> LakeServices:
    services: LakeServices = request.app.state.lake
    return services


def tenant_of(request: Request) -> str:
    tenant = principal(request).tenant_id
    if tenant is None:
        raise ge.BadRequest("this call is tenant-scoped: send X-Tenant-ID (the tenant's id or slug)")
    return tenant


def raw_topic(slug: str) -> str:
    return Namespace(tenant_prefix(slug)).topic(RAW_STREAM, write=True)


async def _body(request: Request) -> bytes:
    return await read_body(request, context(request).settings.max_body_bytes)


# --- tenants ----------------------------------------------------------------------------------------------


async def create_tenant(request: Request) -> Response:
    ctx = context(request)
    require_root(principal(request))
    spec = parse_model(TenantCreate, await _body(request))
    ctx.kafka.require_ready()
    tenant = await ctx.tenants.create(spec)
    topic = raw_topic(tenant.slug)
    partitions = await ensure_stream(ctx.kafka, topic, ctx.settings.lake.raw_partitions, {})
    await ensure_stream(ctx.kafka, dl.dlq_topic(topic), partitions, {})
    await lake(request).tables.ensure_namespace(tenant.id)
    return JSONResponse(
        tenant.model_dump(mode="json"), status_code=201, headers={"location": f"/v1/tenants/{tenant.id}"}
    )


# --- schemas ----------------------------------------------------------------------------------------------


async def create_schema(request: Request) -> Response:
    spec = parse_model(SchemaCreate, await _body(request))
    context(request).kafka.require_ready()
    schema = await lake(request).schemas.create(tenant_of(request), spec)
    return JSONResponse(schema.public(), status_code=201, headers={"location": f"/v1/schemas/{schema.id}"})


async def list_schemas(request: Request) -> Response:
    context(request).kafka.require_ready()
    schemas = await lake(request).schemas.schemas(tenant_of(request))
    return JSONResponse({"schemas": [s.public() for s in schemas]})


async def get_schema(request: Request) -> Response:
    context(request).kafka.require_ready()
    schema = await lake(request).schemas.get(tenant_of(request), request.path_params["schema_id"])
    return JSONResponse(schema.public())


async def patch_schema(request: Request) -> Response:
    patch = parse_model(SchemaPatch, await _body(request))
    context(request).kafka.require_ready()
    schema = await lake(request).schemas.patch(tenant_of(request), request.path_params["schema_id"], patch)
    return JSONResponse(schema.public())


# --- datasets ---------------------------------------------------------------------------------------------


async def create_dataset(request: Request) -> Response:
    spec = parse_model(DatasetCreate, await _body(request))
    context(request).kafka.require_ready()
    dataset = await lake(request).datasets.create(tenant_of(request), spec)
    return JSONResponse(dataset.public(), status_code=201, headers={"location": f"/v1/datasets/{dataset.slug}"})


async def list_datasets(request: Request) -> Response:
    context(request).kafka.require_ready()
    datasets = await lake(request).datasets.datasets(tenant_of(request))
    return JSONResponse({"datasets": [d.public() for d in datasets]})


async def get_dataset(request: Request) -> Response:
    context(request).kafka.require_ready()
    dataset = await lake(request).datasets.get(tenant_of(request), request.path_params["slug"])
    return JSONResponse(dataset.public())


async def preview_dataset(request: Request) -> Response:
    services = lake(request)
    limit = read_parameters(context(request).settings).preview_limit.read(request.query_params)
    context(request).kafka.require_ready()
    dataset = await services.datasets.get(tenant_of(request), request.path_params["slug"])
    location = await services.tables.metadata_location(dataset.iceberg_namespace, dataset.iceberg_table)
    columns: list[str] = []
    rows: list[dict[str, Any]] = []
    if location is not None:
        columns, rows = await services.previewer.latest(location, limit)
    body = {
        "slug": dataset.slug,
        "iceberg_namespace": dataset.iceberg_namespace,
        "iceberg_table": dataset.iceberg_table,
        "columns": columns,
        "rows": rows,
        "count": len(rows),
    }
    return JSONResponse(body)


# --- collect ----------------------------------------------------------------------------------------------


def _invalid(field: str, message: str) -> ge.ValidationFailed:
    return ge.ValidationFailed(message, [{"field": field, "message": message}])


async def collect(request: Request) -> Response:
    ctx = context(request)
    tenant_id = tenant_of(request)
    event = parse_model(CollectRequest, await _body(request))
    ctx.kafka.require_ready()
    services = lake(request)
    schema = await services.schemas.find(tenant_id, event.schema_id)
    if schema is None:
        raise _invalid("/schema_id", f"no schema {event.schema_id!r} is visible to this tenant")
    if schema.status != "published":
        raise _invalid("/schema_id", f"schema {schema.uri!r} is a draft; events need a published schema")
    try:
        timestamp = parse_timestamp(event.timestamp)
    except ValueError as exc:
        raise _invalid("/timestamp", str(exc)) from exc
    violations = services.schemas.compiled(schema).violations(event.payload)
    if violations:
        errors = [{**v.field(), "field": "/payload" + v.pointer} for v in violations]
        raise ge.SchemaViolation(f"the payload breaks schema {schema.uri!r}: {len(violations)} violation(s)", errors)
    tenant = ctx.tenants.find(tenant_id)
    assert tenant is not None  # noqa: S101 - authentication resolved it for this request
    topic = raw_topic(tenant.slug)
    await ensure_stream(ctx.kafka, topic, ctx.settings.lake.raw_partitions, {})
    event_id = event.event_id or str(uuid6.uuid7())
    raw = RawEvent(
        event_id=event_id,
        schema_id=schema.id,
        schema_uri=schema.uri,
        timestamp=timestamp.isoformat().replace("+00:00", "Z"),
        received_at=now_iso(),
        payload=event.payload,
    )
    now = now_ms()
    value = raw.model_dump(mode="json")
    record = OutgoingRecord(event_id.encode(), raw.model_dump_json().encode(), stamps(request), now)
    await ctx.publisher.publish(topic, Submission(record, value), now)
    return JSONResponse({"event_id": event_id, "status": "accepted"}, status_code=202)


def routes() -> list[Route]:
    return [
        Route("/v1/tenants", guarded("admin", create_tenant), methods=["POST"]),
        Route("/v1/schemas", guarded("admin", create_schema), methods=["POST"]),
        Route("/v1/schemas", guarded("consume", list_schemas), methods=["GET"]),
        Route("/v1/schemas/{schema_id}", guarded("consume", get_schema), methods=["GET"]),
        Route("/v1/schemas/{schema_id}", guarded("admin", patch_schema), methods=["PATCH"]),
        Route("/v1/datasets", guarded("admin", create_dataset), methods=["POST"]),
        Route("/v1/datasets", guarded("consume", list_datasets), methods=["GET"]),
        Route("/v1/datasets/{slug}", guarded("consume", get_dataset), methods=["GET"]),
        Route("/v1/datasets/{slug}/preview", guarded("consume", preview_dataset), methods=["GET"]),
        Route("/v1/collect", guarded("produce", collect), methods=["POST"]),
    ]

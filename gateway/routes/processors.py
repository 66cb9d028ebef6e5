"""Processor lifecycle and metrics (seed 003): specs are validated and compiled here, stored by the registry.

Workers (`kafkagate worker`) read the stored specs and run them; this module never talks to a worker directly.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway.authorization import require_stream
from gateway.bodies import parse_model, read_body
from gateway.context import GatewayContext, context
from gateway.kafka.registry import ProcessorRegistry
from gateway.names import is_internal
from gateway.principal import principal
from gateway.processor_metrics import ProcessorMetrics, aggregate, metrics_document, summary_document
from gateway.responses import JSONResponse
from gateway.tenancy import Namespace, namespace
from gateway.timefmt import now_iso, now_ms
from processors.compiler import PlanError, compile_processor, dlq_topic
from processors.functions import FunctionRegistry, UnknownFunctionError
from processors.plan import Topics
from schemas.processor_api import ProcessorRecord, processor_group, spec_json
from schemas.processors import MapOperation, ProcessorSpec, RouteOperation

_BASE = "/api/v1/processors"


def new_processor_id() -> str:
    return f"proc_{secrets.token_hex(6)}"


def _invalid(errors: list[dict[str, Any]]) -> ge.ValidationFailed:
    return ge.ValidationFailed(f"{len(errors)} problem(s) in the processor spec", errors)


def _issue(field: str, message: str) -> dict[str, Any]:
    return {"field": field, "message": message, "type": "invalid_processor"}


def _outputs(spec: ProcessorSpec) -> list[tuple[str, str]]:
    """(location, topic) of every topic the spec names for writing."""
    found = [("sink", spec.sink)] if spec.sink else []
    last = spec.operations[-1] if spec.operations else None
    if isinstance(last, RouteOperation):
        at = f"operations[{len(spec.operations) - 1}]"
        found += [(f"{at}.cases[{i}].sink", case.sink) for i, case in enumerate(last.cases)]
        if last.default:
            found.append((f"{at}.default", last.default))
    return found


def _lookup_tables(spec: ProcessorSpec, functions: FunctionRegistry) -> list[tuple[str, str]]:
    """(location, stream) of every lookup table the spec's map functions read."""
    found = []
    for i, op in enumerate(spec.operations):
        if isinstance(op, MapOperation) and op.function is not None:
            try:
                tables = functions.get(op.function).lookups_for(op.args)
            except UnknownFunctionError:
                continue  # the compiler reports it
            found += [(f"operations[{i}].args", table) for table in tables]
    return found


def _check_names(request: Request, spec: ProcessorSpec, functions: FunctionRegistry) -> None:
    """Before names are mapped to Kafka's: no internal names, and only streams the key's patterns allow."""
    named = [("source", spec.source), *_outputs(spec), *_lookup_tables(spec, functions)]
    problems = [
        _issue(where, f"{topic!r} is reserved: names starting with '_' are internal topics")
        for where, topic in [("name", spec.name), *named]
        if is_internal(topic)
    ]
    if problems:
        raise _invalid(problems)
    who = principal(request)
    for _, stream in named:
        require_stream(who, stream)


async def _prepare(ctx: GatewayContext, registry: ProcessorRegistry, spec: ProcessorSpec, local_source: str) -> Topics:
    """Check the spec (names already in Kafka's terms) against Kafka and the function registry, then create the
    topics it writes to.

    Missing outputs (sinks, route sinks, the DLQ and the repartition topic) get the source's partition count and
    replication factor; the repartition topic also keeps records until the runtime purges them. A source that
    does not exist is a 404 STREAM_NOT_FOUND (as a key's unknown tenant or a commit's unknown stream is); any
    other problem is a 422 listing every field at fault.
    """
    try:
        source = await ctx.kafka.admin.describe(spec.source)
    except ge.StreamNotFound as exc:
        raise ge.StreamNotFound(f"the source stream {local_source!r} does not exist") from exc
    partitions = len(source.partitions)
    try:
        plan = compile_processor(spec, registry.functions, source_partitions=partitions)
    except PlanError as exc:
        raise _invalid([_issue(issue.location, issue.message) for issue in exc.issues]) from exc
    topics = plan.topics
    for topic in (*topics.outputs, *topics.internal):
        try:
            await ctx.kafka.admin.create(topic, partitions, source.replication_factor, topics.configs_for(topic))
        except ge.StreamAlreadyExists:
            continue
    return topics


async def _start_at_end(ctx: GatewayContext, processor_id: str, source: str) -> None:
    """Commit the source's current end offsets for the new processor's group, so its workers start there
    (they reset to the earliest offset only where nothing is committed, e.g. the repartition topic)."""
    partitions, _ = await ctx.kafka.admin.limits(source)
    ranges = await ctx.kafka.admin.offset_range(source, list(range(partitions)))
    ends = {partition: end for partition, (_, end) in ranges.items()}
    await ctx.kafka.groups.commit_without_member(processor_group(processor_id), source, ends)


def _topics(record: ProcessorRecord, functions: FunctionRegistry) -> Topics | None:
    """The topics of a stored processor, or None when its spec no longer validates (written by a newer gateway)."""
    try:
        spec = record.processor_spec()
    except ValidationError:
        return None
    try:
        return compile_processor(spec, functions).topics
    except PlanError:
        # It compiled when it was stored; a function uninstalled since then must not hide the processor.
        routes = [topic for where, topic in _outputs(spec) if where != "sink"]
        if routes and spec.sink:
            return Topics(spec.source, None, (*routes, spec.sink), dlq_topic(spec.name), None)
        return Topics(spec.source, spec.sink, tuple(routes), dlq_topic(spec.name), None)


def _topics_document(topics: Topics | None, ns: Namespace) -> dict[str, Any] | None:
    if topics is None:
        return None

    def local(topic: str | None) -> str | None:
        return None if topic is None else ns.stream(topic) or topic

    return {
        "source": local(topics.source),
        "sink": local(topics.sink),
        "routes": [local(topic) for topic in topics.routes],
        "dlq": local(topics.dlq),
        "repartition": local(topics.repartition),
    }


def _metrics(registry: ProcessorRegistry, record: ProcessorRecord) -> ProcessorMetrics:
    return aggregate(
        registry.snapshots(record.processor_id), version=record.version, desired=record.desired, now_ms=now_ms()
    )


def _summary(record: ProcessorRecord, metrics: ProcessorMetrics, ns: Namespace) -> dict[str, Any]:
    document: dict[str, Any] = {
        "processorId": record.processor_id,
        "name": ns.processor_name(record.name),
        "version": record.version,
        "status": metrics.status,
    }
    if metrics.reason is not None:
        document["reason"] = metrics.reason
    document.update(desired=record.desired, createdAt=record.created_at, updatedAt=record.updated_at)
    return document


def _document(
    registry: ProcessorRegistry, record: ProcessorRecord, ns: Namespace, topics: Topics | None = None
) -> dict[str, Any]:
    metrics = _metrics(registry, record)
    document = _summary(record, metrics, ns)
    document["spec"] = ns.spec_document(record.spec)
    document["topics"] = _topics_document(topics or _topics(record, registry.functions), ns)
    document["metrics"] = summary_document(metrics)
    return document


def _require(registry: ProcessorRegistry, processor_id: str, ns: Namespace) -> ProcessorRecord:
    record = registry.get(processor_id)
    # Another tenant's processor answers exactly like one that does not exist.
    if record is None or ns.processor_name(record.name) is None:
        raise ge.ProcessorNotFound(f"processor {processor_id!r} does not exist")
    return record


async def _spec_from(request: Request, ctx: GatewayContext) -> ProcessorSpec:
    body = await read_body(request, ctx.settings.max_body_bytes)
    await _require_source(request, ctx, body)
    spec = parse_model(ProcessorSpec, body)
    ctx.kafka.require_ready()
    return spec


async def _require_source(request: Request, ctx: GatewayContext, body: bytes) -> None:
    """A spec whose `source` names no stream is a 404 STREAM_NOT_FOUND whatever else is wrong with it, as a key
    naming an unknown tenant is: what it refers to is missing, and fixing the rest would not help. A body that
    is not JSON, or a source that is not a stream name, is left to the spec's validation to refuse."""
    try:
        source = orjson.loads(body).get("source")
    except (orjson.JSONDecodeError, AttributeError):
        return
    if not isinstance(source, str):
        return
    try:
        # As a name a write could use: an internal or malformed one is the spec checks' to refuse (422).
        topic = namespace(request).topic(source, write=True)
    except ge.InvalidStreamName:
        return
    ctx.kafka.require_ready()
    try:
        await ctx.kafka.admin.describe(topic)
    except ge.StreamNotFound as exc:
        raise ge.StreamNotFound(f"the source stream {source!r} does not exist") from exc


async def create_processor(request: Request) -> Response:
    ctx = context(request)
    ns = namespace(request)
    local_spec = await _spec_from(request, ctx)
    registry = ctx.kafka.processors
    _check_names(request, local_spec, registry.functions)
    spec = ns.processor_spec(local_spec)
    async with registry.write_lock:
        await registry.sync()
        taken = registry.by_name(spec.name)
        if taken is not None:
            raise ge.Conflict(f"processor name {local_spec.name!r} is taken by {taken.processor_id}")
        topics = await _prepare(ctx, registry, spec, local_spec.source)
        processor_id = new_processor_id()
        if spec.config.start_from == "latest":
            await _start_at_end(ctx, processor_id, spec.source)
        now = now_iso()
        record = ProcessorRecord(
            processor_id=processor_id,
            version=1,
            name=spec.name,
            spec=spec_json(spec),
            desired="running",
            namespace=ns.prefix,
            created_at=now,
            updated_at=now,
        )
        await registry.write(record)
    location = f"{_BASE}/{record.processor_id}"
    return JSONResponse(_document(registry, record, ns, topics), status_code=201, headers={"location": location})


async def list_processors(request: Request) -> Response:
    ctx = context(request)
    ctx.kafka.require_ready()
    registry = ctx.kafka.processors
    await registry.sync()
    ns = namespace(request)
    records = [r for r in registry.records() if ns.processor_name(r.name) is not None]
    return JSONResponse({"processors": [_summary(r, _metrics(registry, r), ns) for r in records]})


async def get_processor(request: Request) -> Response:
    ctx = context(request)
    ctx.kafka.require_ready()
    registry = ctx.kafka.processors
    await registry.sync()
    ns = namespace(request)
    return JSONResponse(_document(registry, _require(registry, request.path_params["processor_id"], ns), ns))


async def update_processor(request: Request) -> Response:
    """A changed spec becomes the next version; an identical one changes nothing (PUT is idempotent)."""
    ctx = context(request)
    ns = namespace(request)
    local_spec = await _spec_from(request, ctx)
    registry = ctx.kafka.processors
    _check_names(request, local_spec, registry.functions)
    spec = ns.processor_spec(local_spec)
    async with registry.write_lock:
        await registry.sync()
        current = _require(registry, request.path_params["processor_id"], ns)
        if spec.name != current.name:
            name = ns.processor_name(current.name)
            message = f"a processor cannot be renamed (it is {name!r}); create a new processor instead"
            raise _invalid([_issue("name", message)])
        topics = await _prepare(ctx, registry, spec, local_spec.source)
        record = current
        if spec_json(spec) != current.spec:
            record = current.model_copy(
                update={"version": current.version + 1, "spec": spec_json(spec), "updated_at": now_iso()}
            )
            await registry.write(record)
    return JSONResponse(_document(registry, record, ns, topics))


async def _set_desired(request: Request, desired: Literal["running", "paused"]) -> Response:
    ctx = context(request)
    ns = namespace(request)
    ctx.kafka.require_ready()
    registry = ctx.kafka.processors
    async with registry.write_lock:
        await registry.sync()
        record = _require(registry, request.path_params["processor_id"], ns)
        # Resume always writes: for a processor that is already running it is how an operator retries a failed
        # one (the supervisor restarts failed workers on any change to a running processor's record).
        if record.desired != desired or desired == "running":
            record = record.model_copy(update={"desired": desired, "updated_at": now_iso()})
            await registry.write(record)
    return JSONResponse(_document(registry, record, ns))


async def pause_processor(request: Request) -> Response:
    return await _set_desired(request, "paused")


async def resume_processor(request: Request) -> Response:
    return await _set_desired(request, "running")


async def delete_processor(request: Request) -> Response:
    """Stops the processor everywhere. Its sinks, DLQ and repartition topics stay; `keptTopics` names the last
    two, so they can be inspected or deleted as streams."""
    ctx = context(request)
    ns = namespace(request)
    ctx.kafka.require_ready()
    registry = ctx.kafka.processors
    async with registry.write_lock:
        await registry.sync()
        record = _require(registry, request.path_params["processor_id"], ns)
        topics = _topics(record, registry.functions)
        kept = () if topics is None else tuple(ns.stream(t) or t for t in topics.internal)
        await registry.remove(record.processor_id)
    return JSONResponse(
        {
            "status": "deleted",
            "processorId": record.processor_id,
            "name": ns.processor_name(record.name),
            "deletedAt": now_iso(),
            "keptTopics": list(kept),
        }
    )


async def processor_metrics(request: Request) -> Response:
    ctx = context(request)
    ctx.kafka.require_ready()
    registry = ctx.kafka.processors
    await registry.sync(metrics=True)
    record = _require(registry, request.path_params["processor_id"], namespace(request))
    return JSONResponse(metrics_document(record.processor_id, record.version, _metrics(registry, record)))

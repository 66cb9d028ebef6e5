"""The OpenAPI 3.1 document served at `GET /openapi.json`, built from the same pydantic shapes that validate
requests, so the document cannot drift from what the gateway accepts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter

from gateway import errors as ge
from gateway.idempotency import MAX_KEY_CHARS
from gateway.parameters import PATH_SCHEMAS, query_schemas
from gateway.seeds import ingest_envelope, intake_openapi, lake_openapi, logs_openapi
from gateway.settings import Settings
from schemas.consumers import CommitRequest, ResetRequest
from schemas.events import BATCH, EVENT
from schemas.ingest import INGEST_BODY, IngestAccepted, IngestError
from schemas.keys import KeyCreate, TokenRequest
from schemas.processors import ProcessorSpec
from schemas.stream_documents import StreamDocument, StreamList
from schemas.stream_schemas import StreamSchemaPut
from schemas.streams import StreamCreate, StreamPatch
from schemas.tenants import TenantCreate

API = "/api/v1"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    success: int = 200
    body: str | None = None  # a component schema name
    query: tuple[tuple[str, str, bool, str], ...] = ()  # (name, description, required, kind in query_schemas)
    errors: tuple[int, ...] = field(default=(400, 404, 422, 503))
    public: bool = False  # public paths skip authentication and quotas: no 429, no RateLimit fields
    idempotent: bool = False  # honours Idempotency-Key (gateway.idempotency)
    headers: tuple[tuple[str, str, bool], ...] = ()  # request header parameters: (name, description, required)
    returns: str | None = None  # the success body's component schema name
    # A seed API's operation: its errors' component schema (its own JSON envelope, not problem+json) and what
    # each status means there.
    envelope: str | None = None
    status_text: dict[int, str] = field(default_factory=dict)
    also: tuple[tuple[int, str], ...] = ()  # other success statuses, with what they mean
    media_type: str = "application/json"  # the success body's; a text body is documented as a string
    description: str | None = None  # the operation's longer description (CommonMark)
    event_stream: str | None = None  # what the success body is as `text/event-stream`, when it can be one
    body_media_type: str = "application/json"  # the request body's


_EVENT_STREAM = (
    "Server-Sent Events, one per record: `id:` the event id (`evt_<partition>_<offset>`), `data:` the event document "
    "a poll returns (split over `data:` lines where a stored JSON value holds line breaks), and `: heartbeat` comments "
    "every KAFKAGATE_SSE_HEARTBEAT_S without events. A `: connected` comment says the member holds its partitions. "
    "An error after the stream started is sent as `event: problem` with a problem document, then the stream ends."
)
_PUSH = (
    "With `Accept: text/event-stream` (preferred over `application/json`), the route streams instead of polling: "
    "a consumer-group member is made for the connection and leaves its group when the connection ends. `offset` "
    "applies to a group without commits (`earliest`/`latest`) or seeks every partition (a number); `limit`, "
    "`timeout`, `autoCommit` and `maxBytes` do not apply.\n\n"
    "**Resume.** A reconnect with `Last-Event-ID` (or `lastEventId`) commits, for every partition the member holds, "
    "the offset right after the last event the previous connection sent before that one, and streams on from "
    "there: nothing seen comes again, nothing unseen is skipped. This gateway keeps what each connection sent (per "
    "group and stream, for KAFKAGATE_CONSUMER_IDLE_TIMEOUT_MS after it ended); an id it has no record of (another "
    "gateway, a restart, older than KAFKAGATE_SSE_RESUME_WINDOW_EVENTS) resumes its own partition right after it "
    "and the others from the group's commits.\n\n"
    "**Commits.** The gateway commits only on such a reconnect, and for events more than "
    "KAFKAGATE_SSE_RESUME_WINDOW_EVENTS behind the newest one sent (taken as delivered). Explicit commits "
    "(`POST /api/v1/consumers/{group}/commit`) go through the connection's member.\n\n"
    "**Slow clients.** A connection holds at most one batch (KAFKAGATE_SSE_BUFFER_EVENTS events, "
    "KAFKAGATE_SSE_BUFFER_BYTES bytes): the next is read from Kafka only once the last is written, so a client that "
    "reads slowly is fed slowly, and one that reads nothing for KAFKAGATE_CONSUMER_IDLE_TIMEOUT_MS is cut off.\n\n"
    "One connection per group and stream on a gateway: a new one takes over (the older ends), a poll of the same "
    "group and stream is 409 meanwhile. The stream ends at once when the gateway shuts down."
)

_POLL_QUERY = (
    ("consumerGroup", "consumer group id", True, "group"),
    ("offset", "earliest, latest or an offset; see the consume semantics", False, "offset"),
    ("limit", "maximum events (KAFKAGATE_CONSUME_MAX_LIMIT at most)", False, "limit"),
    ("timeout", "long-poll wait in ms (KAFKAGATE_CONSUME_MAX_TIMEOUT_MS at most)", False, "timeout"),
    ("autoCommit", "commit this poll's offsets when the next poll arrives", False, "boolean"),
    ("maxBytes", "response size cap in bytes (KAFKAGATE_CONSUME_MAX_BYTES at most)", False, "maxBytes"),
)

OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/healthz", "The process is alive", errors=(), public=True),
    Operation("get", "/readyz", "Connected to Kafka", errors=(503,), public=True),
    Operation("get", "/openapi.json", "This document", errors=(), public=True),
    Operation(
        "get",
        "/docs",
        "This document as a browsable reference (Swagger UI)",
        errors=(),
        public=True,
        media_type="text/html",
    ),
    Operation(
        "get",
        "/console",
        "The operator console: streams, groups, processors, a live tail",
        errors=(),
        public=True,
        media_type="text/html",
    ),
    Operation(
        "get",
        "/metrics",
        "Prometheus metrics of this gateway process (text exposition format)",
        errors=(401,),
        public=True,
        media_type="text/plain",
        status_text={401: "KAFKAGATE_METRICS_TOKEN is set and this request did not send it as a bearer token"},
    ),
    Operation(
        "post",
        "/auth/token",
        "Exchange an API key for a short-lived access token (JWT)",
        body="TokenRequest",
        errors=(400, 401, 415, 422),
        public=True,
    ),
    Operation(
        "post",
        f"{API}/streams",
        "Create a stream",
        201,
        "StreamCreate",
        errors=(400, 409, 413, 422, 503),
        idempotent=True,
        returns="StreamDocument",
    ),
    Operation(
        "get",
        f"{API}/streams",
        "List streams",
        query=(
            ("limit", "page size", False, "page-limit"),
            ("after", "cursor: the last name of the page before", False, "string"),
        ),
        returns="StreamList",
    ),
    Operation("get", f"{API}/streams/{{stream}}", "Describe a stream", returns="StreamDocument"),
    Operation(
        "patch",
        f"{API}/streams/{{stream}}",
        "Alter a stream's config or add partitions",
        body="StreamPatch",
        returns="StreamDocument",
    ),
    Operation("delete", f"{API}/streams/{{stream}}", "Delete a stream"),
    Operation(
        "put",
        f"{API}/streams/{{stream}}/schema",
        "Set the stream's JSON Schema (Draft 2020-12) and what happens to events that break it",
        body="StreamSchemaPut",
        errors=(400, 404, 413, 415, 422, 503),
    ),
    Operation("get", f"{API}/streams/{{stream}}/schema", "The stream's schema (404 SCHEMA_NOT_FOUND: none)"),
    Operation("delete", f"{API}/streams/{{stream}}/schema", "Remove the stream's schema: events are no longer checked"),
    Operation(
        "post",
        f"{API}/streams/{{stream}}/events",
        "Publish one event (422 SCHEMA_VIOLATION when it breaks a `reject` schema)",
        201,
        "EventIn",
        errors=(400, 404, 408, 413, 415, 422, 503, 504),
        idempotent=True,
        also=(
            (
                202,
                "the value broke the stream's `deadLetter` schema: written to `<stream>.dlq` instead "
                '(`status: "dead-lettered"`, its place there, `schemaVersion` and `errors` with JSON pointers)',
            ),
        ),
    ),
    Operation(
        "post",
        f"{API}/streams/{{stream}}/events/batch",
        "Publish a batch (207 when some fail; events that break a `deadLetter` schema are `dead-lettered`)",
        200,
        "BatchIn",
        errors=(400, 404, 408, 413, 415, 422, 503),
        idempotent=True,
        also=((207, "some events failed: each failure entry has its code, and `errors` for SCHEMA_VIOLATION"),),
    ),
    Operation(
        "get",
        f"{API}/streams/{{stream}}/events",
        "Poll as a consumer-group member, or stream as Server-Sent Events (`Accept: text/event-stream`)",
        query=(*_POLL_QUERY, ("lastEventId", "event stream only: as the Last-Event-ID header", False, "string")),
        errors=(400, 404, 409, 422, 429, 503),
        headers=(("Last-Event-ID", "event stream only: resume right after this event id", False),),
        description=_PUSH,
        event_stream=_EVENT_STREAM,
    ),
    Operation("get", f"{API}/streams/{{stream}}/events/{{event_id}}", "Read one event by id"),
    Operation(
        "get",
        f"{API}/streams/{{stream}}/partitions/{{partition}}/events",
        "Replay a partition without a group",
        query=(
            ("offset", "earliest, latest or an offset", False, "offset"),
            ("limit", "maximum events", False, "limit"),
            ("timeout", "long-poll wait in ms", False, "timeout"),
        ),
    ),
    Operation(
        "get",
        f"{API}/streams/{{stream}}/offsets",
        "Offsets at or after a time",
        query=(("timestamp", "epoch ms or ISO 8601", True, "timestamp"),),
    ),
    Operation("get", f"{API}/consumers", "List consumer groups"),
    Operation("get", f"{API}/consumers/{{group}}", "Describe a consumer group"),
    Operation("delete", f"{API}/consumers/{{group}}", "Delete an inactive consumer group", errors=(400, 404, 409, 503)),
    Operation(
        "post",
        f"{API}/consumers/{{group}}/commit",
        "Commit offsets",
        body="CommitRequest",
        errors=(400, 404, 409, 422, 503),
        idempotent=True,
    ),
    Operation(
        "post",
        f"{API}/consumers/{{group}}/reset",
        "Reset an inactive group",
        body="ResetRequest",
        errors=(400, 404, 409, 422, 503),
    ),
    Operation(
        "delete", f"{API}/consumers/{{group}}/sessions", "Close this gateway's members of a group", errors=(400,)
    ),
    Operation(
        "post",
        f"{API}/processors",
        "Create a processor",
        201,
        "ProcessorSpec",
        errors=(400, 409, 422, 503),
        idempotent=True,
    ),
    Operation("get", f"{API}/processors", "List processors"),
    Operation("get", f"{API}/processors/{{processor_id}}", "A processor's spec, status and topics"),
    Operation("put", f"{API}/processors/{{processor_id}}", "Replace the spec (a new version)", body="ProcessorSpec"),
    Operation("delete", f"{API}/processors/{{processor_id}}", "Delete a processor"),
    Operation("post", f"{API}/processors/{{processor_id}}/pause", "Pause a processor"),
    Operation("post", f"{API}/processors/{{processor_id}}/resume", "Resume a processor"),
    Operation("get", f"{API}/processors/{{processor_id}}/metrics", "A processor's metrics"),
    Operation(
        "get",
        f"{API}/processors/{{processor_id}}/state",
        "An aggregate's state for one key: its open windows and those closed within the last hour of stream time, "
        "from the state the workers publish (about 0.1-0.5 s behind them). With `after`, once the processor has "
        "processed those source positions (within KAFKAGATE_READ_AFTER_WRITE_WAIT_MS, else 504)",
        query=(
            ("key", "the group key (a numeric key may be written as its JSON number)", True, "string"),
            (
                "after",
                "source positions partition:offset, comma separated, as produce responses give them",
                False,
                "string",
            ),
        ),
        errors=(400, 404, 503, 504),
    ),
    Operation("post", f"{API}/keys", "Create an API key (the token is shown once)", 201, "KeyCreate"),
    Operation("get", f"{API}/keys", "List API keys (never their tokens)"),
    Operation("get", f"{API}/keys/{{key_id}}", "Describe an API key"),
    Operation("delete", f"{API}/keys/{{key_id}}", "Revoke an API key on every gateway"),
    Operation(
        "post", f"{API}/tenants", "Create a tenant (root only)", 201, "TenantCreate", errors=(400, 409, 422, 503)
    ),
    Operation("get", f"{API}/tenants", "List the tenants the caller can see"),
    Operation("get", f"{API}/tenants/{{tenant}}", "Describe a tenant by id or slug"),
    Operation(
        "post",
        "/v1/events",
        "Event Intake API (seed 004): submit one event to the caller's intake stream; 202 once Kafka acknowledged",
        202,
        "IntakeEventIn",
        errors=(400, 408, 409, 413, 500, 503, 504),
        envelope="IntakeError",
        status_text=intake_openapi.STATUS_TEXT,
        returns="IntakeAccepted",
    ),
    Operation(
        "get",
        "/v1/events/{event_id}",
        "Event Intake API (seed 004): read an event by the event_id its submission returned",
        errors=(404, 500, 503),
        envelope="IntakeError",
        status_text=intake_openapi.STATUS_TEXT,
        returns="IntakeEvent",
    ),
    *(
        Operation(
            method,
            path,
            f"Event log API (seed 002): {summary}",
            errors=errors,
            envelope="LogError",
            status_text=logs_openapi.STATUS_TEXT,
            **extra,
        )
        for method, path, summary, errors, extra in logs_openapi.OPERATIONS
    ),
    Operation(
        "post",
        ingest_envelope.PATH,
        "Streaming Ingest API (seed 001): ingest one event or an array of events into a stream",
        body="IngestBody",
        headers=(("X-Stream-Id", "the target stream: its streamId (Kafka topic id, a UUID) or its name", True),),
        returns="IngestAccepted",
        errors=(400, 404, 408, 500, 504),
        envelope="IngestError",
        status_text=ingest_envelope.STATUS_TEXT,
    ),
    *(
        Operation(
            method,
            path,
            f"Lake API (seed 000): {summary}",
            success,
            body,
            errors=errors,
            headers=() if path == "/v1/tenants" else lake_openapi.TENANT_HEADER,
            returns=returns,
            envelope="LakeError",
            status_text=lake_openapi.STATUS_TEXT,
            query=query,
        )
        for method, path, summary, success, body, errors, returns, query in (
            (
                "post",
                "/v1/tenants",
                "create a tenant, its lake namespace and its raw and dead-letter streams (root only)",
                201,
                "TenantCreate",
                (400, 409, 413, 415, 422, 503),
                "LakeTenant",
                (),
            ),
            (
                "post",
                "/v1/schemas",
                "register a schema (a draft)",
                201,
                "LakeSchemaIn",
                (400, 409, 413, 415, 422, 503),
                "LakeSchema",
                (),
            ),
            ("get", "/v1/schemas", "the tenant's schemas", 200, None, (400, 503), "LakeSchemaList", ()),
            ("get", "/v1/schemas/{schema_id}", "a schema", 200, None, (400, 404, 503), "LakeSchema", ()),
            (
                "patch",
                "/v1/schemas/{schema_id}",
                "change a draft, or publish it (which freezes it)",
                200,
                "LakeSchemaPatch",
                (400, 404, 409, 413, 415, 422, 503),
                "LakeSchema",
                (),
            ),
            (
                "post",
                "/v1/datasets",
                "create a dataset: an Iceberg table from a published schema",
                201,
                "LakeDatasetIn",
                (400, 409, 413, 415, 422, 503),
                "LakeDataset",
                (),
            ),
            ("get", "/v1/datasets", "the tenant's datasets", 200, None, (400, 503), "LakeDatasetList", ()),
            ("get", "/v1/datasets/{slug}", "a dataset", 200, None, (400, 404, 503), "LakeDataset", ()),
            (
                "get",
                "/v1/datasets/{slug}/preview",
                "the latest rows, read from the Iceberg table with DuckDB",
                200,
                None,
                (400, 404, 422, 503),
                "LakePreview",
                (("limit", "rows (KAFKAGATE_LAKE_PREVIEW_MAX_LIMIT at most; 10 by default)", False, "limit"),),
            ),
            (
                "post",
                "/v1/collect",
                "validate an event and publish it to the tenant's raw stream; 202 once Kafka has it",
                202,
                "CollectIn",
                (400, 413, 415, 422, 503, 504),
                "CollectAccepted",
                (),
            ),
        )
    ),
)

_SCHEMAS: dict[str, TypeAdapter[Any] | type[BaseModel]] = {
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

_PROBLEM = {
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
_HEADERS: dict[str, Any] = {
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
_RATELIMIT_HEADERS = {name: {"$ref": f"#/components/headers/{name}"} for name in ("RateLimit-Policy", "RateLimit")}
_RETRY_AFTER = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
_STATUS_TEXT = {
    408: "the body did not arrive within KAFKAGATE_BODY_READ_TIMEOUT_S (REQUEST_TIMEOUT, 1034); the connection is "
    "closed and nothing was done",
    401: "no valid bearer token (UNAUTHORIZED, 1018): the same answer whatever the reason",
    403: "the key lacks the scope or the stream pattern (FORBIDDEN, 1028)",
    429: "the key is over its request or body-byte quota (QUOTA_EXCEEDED, 1005)",
    503: "Kafka is unavailable (BROKER_UNAVAILABLE, 1011) or the gateway is overloaded (OVERLOADED, 1027)",
}


def _schema(source: TypeAdapter[Any] | type[BaseModel]) -> dict[str, Any]:
    ref_template = "#/components/schemas/{model}"
    if isinstance(source, TypeAdapter):
        return source.json_schema(ref_template=ref_template, by_alias=True)
    return source.model_json_schema(ref_template=ref_template, by_alias=True)


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Problem": _PROBLEM,
        **intake_openapi.SCHEMAS,
        **logs_openapi.SCHEMAS,
        **lake_openapi.SCHEMAS,
    }
    for name, source in _SCHEMAS.items():
        schema = _schema(source)
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    return schemas


def _idempotency_key(ttl_s: int) -> dict[str, Any]:
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": (
            "Makes the request idempotent for the calling key (IETF draft-ietf-httpapi-idempotency-key-header, "
            "as Stripe). 1-255 printable ASCII characters (0x20-0x7E; spaces inside are part of the key), else "
            f"400 INVALID_IDEMPOTENCY_KEY. The idempotency window is {ttl_s} s after the first request completed "
            "(KAFKAGATE_IDEMPOTENCY_TTL_S): within it, the same request (same method, path, query and body bytes) "
            "gets the stored status, content-type, location and body byte for byte, with "
            "`Idempotent-Replayed: true`, and does nothing again; the same key with another request is 422 "
            "IDEMPOTENCY_KEY_REUSED; while the first request runs (a timed-out produce: until Kafka's real outcome "
            "is known) a repeat is 409 IDEMPOTENCY_KEY_IN_USE with Retry-After. 4xx and 503 responses are not "
            "stored: the key is released and a corrected retry runs. Keys are scoped to the calling principal "
            "(key and tenant) and hold across gateway restarts and any number of gateways. Produced records carry "
            "the key in their `idempotency-key` header."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_CHARS, "pattern": "^[\\x20-\\x7E]+$"},
    }


_REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this response is the stored response of an earlier request with the same "
        "Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def _operation(op: Operation, idempotency_ttl_s: int, queries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    path_names = [name.strip("{}") for name in op.path.split("/") if name.startswith("{")]
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": PATH_SCHEMAS.get(name, {"type": "string"})}
        for name in path_names
    ]
    parameters += [
        {"name": name, "in": "query", "required": required, "description": text, "schema": queries[kind]}
        for name, text, required, kind in op.query
    ]
    parameters += [
        {"name": name, "in": "header", "required": required, "description": text, "schema": {"type": "string"}}
        for name, text, required in op.headers
    ]
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    if op.envelope is not None:
        problem = {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.envelope}"}}}
    returned: dict[str, Any] = {} if op.returns is None else {"schema": {"$ref": f"#/components/schemas/{op.returns}"}}
    if op.media_type != "application/json":
        returned = {"schema": {"type": "string"}}
    success: dict[str, Any] = {"description": "success", "content": {op.media_type: returned}}
    if op.event_stream is not None:
        success["description"] = f"success. As `text/event-stream`: {op.event_stream}"
        success["content"]["text/event-stream"] = {"schema": {"type": "string"}}
    status_text = {**_STATUS_TEXT, **op.status_text}
    statuses = set(op.errors)
    if not op.public:
        success["headers"] = dict(_RATELIMIT_HEADERS)
        statuses |= {401, 403, 429, 503}  # every authenticated request spends quota; produce ones also meet the cap
    if op.idempotent:
        parameters.append(_idempotency_key(idempotency_ttl_s))
        success["headers"] = {**success.get("headers", {}), **_REPLAYED}
        statuses |= {400, 409, 422}
    responses: dict[str, Any] = {str(op.success): success}
    for status, meaning in op.also:
        responses[str(status)] = {**success, "description": meaning}
    for status in sorted(statuses):
        response: dict[str, Any] = {"description": status_text.get(status, "error"), "content": problem}
        if status == 429:
            response["headers"] = {**_RETRY_AFTER, **_RATELIMIT_HEADERS}
        elif status == 503:
            response["headers"] = _RETRY_AFTER
        responses[str(status)] = response
    responses["default"] = {"description": "error", "content": problem}
    document: dict[str, Any] = {"summary": op.summary, "parameters": parameters, "responses": responses}
    if op.description is not None:
        document["description"] = op.description
    document["security"] = [] if op.public else [{"bearer": []}]
    if op.body is not None:
        schema = {"$ref": f"#/components/schemas/{op.body}"}
        document["requestBody"] = {"required": True, "content": {op.body_media_type: {"schema": schema}}}
    return document


def build_openapi(version: str, settings: Settings | None = None) -> dict[str, Any]:
    """The document for a gateway running with `settings` (their defaults when None): the idempotency window and
    the query parameters' bounds come from them."""
    settings = settings or Settings.model_construct()  # defaults only: no environment, no validation
    queries = query_schemas(settings)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, settings.idempotency_ttl_s, queries)
    return {
        "openapi": "3.1.0",
        "info": {"title": "kafkagate", "version": version, "description": "HTTP gateway for Apache Kafka"},
        "paths": paths,
        "components": {
            "schemas": _components(),
            "headers": _HEADERS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API key token (kg_...), an access token from /auth/token, or the root token",
                }
            },
        },
        "security": [{"bearer": []}],
    }

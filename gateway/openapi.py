"""The OpenAPI 3.1 document served at `GET /openapi.json`, built from the same pydantic shapes that validate
requests, so the document cannot drift from what the gateway accepts.

`OPERATIONS` lists every route; `gateway/openapi_operation.py` renders one, `gateway/openapi_components.py` holds
the shared schemas and headers, and `gateway/openapi_links.py` says which responses feed which operations."""

from __future__ import annotations

from typing import Any

from gateway.openapi_components import components
from gateway.openapi_links import links_for
from gateway.openapi_operation import API, Operation, render_operation
from gateway.parameters import query_schemas
from gateway.seeds import ingest_envelope, intake_openapi, lake_openapi, logs_openapi
from gateway.settings import Settings

__all__ = ["API", "OPERATIONS", "Operation", "build_openapi"]

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
        errors=(400, 404, 409, 422, 503),
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
                "source positions partition:offset, comma separated, as produce responses give them (400 for "
                "a position the source does not hold)",
                False,
                "positions",
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
        headers=(
            ("X-Stream-Id", "the target stream: its streamId (Kafka topic id, a UUID) or its name", True, "stream"),
        ),
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
                (("limit", "rows (KAFKAGATE_LAKE_PREVIEW_MAX_LIMIT at most; 10 by default)", False, "preview-limit"),),
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


def build_openapi(version: str, settings: Settings | None = None) -> dict[str, Any]:
    """The document for a gateway running with `settings` (their defaults when None): the idempotency window and
    the query parameters' bounds come from them."""
    settings = settings or Settings.model_construct()  # defaults only: no environment, no validation
    queries = query_schemas(settings)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        rendered = render_operation(op, settings.idempotency_ttl_s, queries, links_for(op, OPERATIONS))
        paths.setdefault(op.path, {})[op.method] = rendered
    return {
        "openapi": "3.1.0",
        "info": {"title": "kafkagate", "version": version, "description": "HTTP gateway for Apache Kafka"},
        "paths": paths,
        "components": components(settings.stream_max_partitions),
        "security": [{"bearer": []}],
    }

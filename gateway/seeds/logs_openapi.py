"""What `/openapi.json` says about the event log API (seed 002): its shapes and what each status means."""

from __future__ import annotations

from typing import Any

from gateway.seeds.logs_envelope import ERROR_SCHEMA
from schemas.logs import ViewDefinition

_SUCCESS = {"type": "boolean", "enum": [True]}

SCHEMAS: dict[str, Any] = {
    "LogCreated": {
        "type": "object",
        "required": ["success", "log_id"],
        "properties": {"success": _SUCCESS, "log_id": {"type": "string", "format": "uuid"}},
    },
    "LogEventBytes": {"type": "string", "format": "binary", "description": "the event: any bytes"},
    "LogAppended": {
        "type": "object",
        "required": ["success", "sequence"],
        "properties": {
            "success": _SUCCESS,
            "sequence": {"type": "integer", "minimum": 1, "description": "1 for the first event, then +1 each"},
        },
    },
    "ViewDefinition": ViewDefinition.model_json_schema(),
    "LogSuccess": {"type": "object", "required": ["success"], "properties": {"success": _SUCCESS}},
    "ViewStats": {
        "type": "object",
        "required": [
            "view_name",
            "log_name",
            "leader_status",
            "leader_node_id",
            "processed_sequence",
            "created_at",
        ],
        "properties": {
            "view_name": {"type": "string"},
            "log_name": {"type": "string"},
            "leader_status": {
                "type": ["string", "null"],
                "enum": ["ready", None],
                "description": "ready while a view host leads the view (it published within the last 10 s)",
            },
            "leader_node_id": {"type": ["string", "null"]},
            "processed_sequence": {"type": "integer", "minimum": 0},
            "created_at": {"type": "integer", "description": "when the view was deployed, seconds since the epoch"},
            "apply_errors": {"type": "integer", "description": "events whose apply failed (state left unchanged)"},
            "last_apply_error": {"type": ["string", "null"]},
        },
    },
    "ViewQueryInput": {"type": "string", "format": "binary", "description": "the query input (`input`, `raw`)"},
    "ViewAnswer": {"description": "the query's output as JSON (the state itself for a view without a query)"},
    "LogError": ERROR_SCHEMA,
}

STATUS_TEXT = {
    400: "invalid_request: a bad log or view name, malformed JSON, `after` that is not a sequence number or is past "
    "the log's last event, or a query that fails on this input",
    401: "unauthorized: exchange an API key at POST /auth/token and send the token as a bearer token",
    403: "forbidden: the key lacks the scope",
    404: "not_found: no such log or view in this tenant",
    409: "conflict: this tenant already has a log of that name; or an Idempotency-Key still in use",
    413: "payload_too_large: the body is larger than the gateway accepts",
    415: "unsupported_media_type: append takes application/octet-stream; views are CEL sent as application/json "
    "(WebAssembly components are refused, and the message says what to send instead)",
    422: "invalid_view: the view does not compile (the message names initial, apply or query); or an "
    "Idempotency-Key reused with another append",
    500: "internal_error",
    503: "unavailable: Kafka is unreachable or the gateway is overloaded; retry after Retry-After",
    504: "timeout: Kafka did not acknowledge in time (retry with the same Idempotency-Key), or the view did not "
    "reach `after` within KAFKAGATE_READ_AFTER_WRITE_WAIT_MS (10 s)",
}

#: (method, path, summary, error statuses, other `Operation` fields) of every route, for `gateway.openapi`.
OPERATIONS: tuple[tuple[str, str, str, tuple[int, ...], dict[str, Any]], ...] = (
    (
        "post",
        "/logs/{log}",
        "create a log named `log` (names are unique per tenant)",
        (400, 409),
        {"returns": "LogCreated"},
    ),
    (
        "delete",
        "/logs/{log}",
        "delete the log whose id is `log`, its views and its events",
        (404,),
        {"returns": "LogSuccess"},
    ),
    (
        "post",
        "/logs/{log_id}/append",
        "append an event; answered with its sequence once Kafka acknowledged it (acks=all). An "
        "Idempotency-Key header replays the first answer (and appends nothing) for the same bytes",
        (400, 404, 408, 409, 413, 415, 422, 504),
        {"body": "LogEventBytes", "body_media_type": "application/octet-stream", "returns": "LogAppended"},
    ),
    (
        "post",
        "/logs/{log_id}/views/{view}",
        "deploy a CEL view (the same definition again keeps its state; another replaces it)",
        (400, 404, 413, 415, 422),
        {"body": "ViewDefinition", "returns": "LogSuccess"},
    ),
    ("delete", "/logs/{log_id}/views/{view}", "remove a view", (404,), {"returns": "LogSuccess"}),
    (
        "get",
        "/logs/{log_id}/views/{view}/stats",
        "a view's leader and progress",
        (404,),
        {"returns": "ViewStats"},
    ),
    (
        "post",
        "/logs/{log_id}/views/{view}/query",
        "query a view; with `after`, once it has processed that sequence (within "
        "KAFKAGATE_READ_AFTER_WRITE_WAIT_MS, else 504); without, the state this gateway holds (may be stale)",
        (400, 404, 413, 504),
        {
            "body": "ViewQueryInput",
            "body_media_type": "application/octet-stream",
            "body_optional": True,  # the document's own example sends an empty body
            "returns": "ViewAnswer",
            "query": (("after", "a sequence number the answer must reflect", False, "sequence"),),
        },
    ),
)

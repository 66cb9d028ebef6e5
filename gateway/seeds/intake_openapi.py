"""What `/openapi.json` says about the Event Intake API (seed 004): its shapes and what each status means."""

from __future__ import annotations

from typing import Any

from gateway.seeds.intake_envelope import ERROR_SCHEMA
from gateway.seeds.intake_events import IntakeEvent

_EVENT_ID = {
    "type": "string",
    "pattern": "^evt_[0-9A-HJKMNP-TV-Z]{24}$",
    "description": "opaque; names the event in the caller's intake stream on any gateway",
}

SCHEMAS: dict[str, Any] = {
    "IntakeEventIn": IntakeEvent.model_json_schema(by_alias=True),
    "IntakeAccepted": {
        "type": "object",
        "required": ["status", "event_id"],
        "properties": {"status": {"type": "string", "enum": ["accepted"]}, "event_id": _EVENT_ID},
    },
    "IntakeEvent": {
        "type": "object",
        "required": ["event_id", "event_type", "occurred_at", "data"],
        "properties": {
            "event_id": _EVENT_ID,
            "event_type": {"type": "string"},
            "occurred_at": {"type": "string", "description": "as it was sent"},
            "data": {"type": "object"},
        },
    },
    "IntakeError": ERROR_SCHEMA,
}

STATUS_TEXT = {
    400: "invalid_request: malformed JSON, a missing or invalid field, an invalid timestamp, a Content-Type other "
    "than application/json, or an idempotency_key already used with a different event",
    401: "unauthorized: missing or invalid token",
    403: "forbidden: the key lacks the scope or may not use the intake stream",
    404: "not_found: unknown event_id",
    408: "request_timeout: the body did not arrive in time; nothing was done (the connection is closed)",
    409: "conflict: a request with this idempotency_key is still in progress; retry after Retry-After",
    413: "payload_too_large: the body is larger than the gateway accepts",
    429: "rate_limited: the key is over its quota; retry after Retry-After",
    500: "internal_error: unexpected error (the gateway log has it under the request id)",
    503: "unavailable: Kafka is unreachable or the gateway is overloaded; retry after Retry-After",
    504: "timeout: Kafka did not acknowledge in time; retry with the same idempotency_key",
}

"""One operation of `/openapi.json`: what `OPERATIONS` in `gateway/openapi.py` says about a route, and how it
is rendered (parameters, the Idempotency-Key header, success and problem responses, rate-limit fields, links)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gateway.idempotency import MAX_KEY_CHARS
from gateway.openapi_components import RATELIMIT_HEADERS, RETRY_AFTER
from gateway.parameters import PATH_SCHEMAS

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
    # Request header parameters: (name, description, required, kind in query_schemas or None for any string).
    headers: tuple[tuple[str, str, bool] | tuple[str, str, bool, str], ...] = ()
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
    body_optional: bool = False  # the body may be left out (an empty body means the same)

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


def operation_id(method: str, path: str) -> str:
    """A stable id from the method and path (`post_streams_stream_events`), which links refer to."""
    local = path.removeprefix(API)
    words = [word for word in re.split(r"[^A-Za-z0-9]+", local) if word]
    return "_".join([method, *words])


STATUS_TEXT = {
    408: "the body did not arrive within KAFKAGATE_BODY_READ_TIMEOUT_S (REQUEST_TIMEOUT, 1034); the connection is "
    "closed and nothing was done",
    401: "no valid bearer token (UNAUTHORIZED, 1018): the same answer whatever the reason",
    403: "the key lacks the scope or the stream pattern (FORBIDDEN, 1028)",
    429: "the key is over its request or body-byte quota (QUOTA_EXCEEDED, 1005)",
    503: "Kafka is unavailable (BROKER_UNAVAILABLE, 1011) or the gateway is overloaded (OVERLOADED, 1027)",
    504: "Kafka did not answer in time (TIMEOUT, 1006); for a change (a stream created, a commit) the outcome is "
    "unknown: read the resource before retrying",
}

_REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this response is the stored response of an earlier request with the same "
        "Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def idempotency_key(ttl_s: int) -> dict[str, Any]:
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
            "is known; at another gateway, also the round trip after its response that stores it) a repeat is 409 "
            "IDEMPOTENCY_KEY_IN_USE with Retry-After. 4xx and 503 responses are not "
            "stored: the key is released and a corrected retry runs. Keys are scoped to the calling principal "
            "(key and tenant) and hold across gateway restarts and any number of gateways. Produced records carry "
            "the key in their `idempotency-key` header."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_CHARS, "pattern": "^[\\x20-\\x7E]+$"},
    }


def _parameters(op: Operation, queries: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    path_names = [name.strip("{}") for name in op.path.split("/") if name.startswith("{")]
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": PATH_SCHEMAS.get(name, {"type": "string"})}
        for name in path_names
    ]
    parameters += [
        {"name": name, "in": "query", "required": required, "description": text, "schema": queries[kind]}
        for name, text, required, kind in op.query
    ]
    for name, text, required, *kind in op.headers:
        schema = queries[kind[0]] if kind else {"type": "string"}
        parameters.append({"name": name, "in": "header", "required": required, "description": text, "schema": schema})
    return parameters


def render_operation(
    op: Operation,
    idempotency_ttl_s: int,
    queries: dict[str, dict[str, Any]],
    links: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The operation object of `op`; `links` go on its success response."""
    parameters = _parameters(op, queries)
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
    status_text = {**STATUS_TEXT, **op.status_text}
    statuses = set(op.errors)
    if not op.public:
        success["headers"] = dict(RATELIMIT_HEADERS)
        # Every authenticated request spends quota (429) and talks to Kafka, which can be away (503) or slow (504).
        statuses |= {401, 403, 429, 503, 504}
    if op.idempotent:
        parameters.append(idempotency_key(idempotency_ttl_s))
        success["headers"] = {**success.get("headers", {}), **_REPLAYED}
        statuses |= {400, 409, 422}
    responses: dict[str, Any] = {str(op.success): success if not links else {**success, "links": links}}
    for status, meaning in op.also:
        responses[str(status)] = {**success, "description": meaning}
    for status in sorted(statuses):
        response: dict[str, Any] = {"description": status_text.get(status, "error"), "content": problem}
        if status == 429:
            response["headers"] = {**RETRY_AFTER, **RATELIMIT_HEADERS}
        elif status == 503:
            response["headers"] = RETRY_AFTER
        responses[str(status)] = response
    responses["default"] = {"description": "error", "content": problem}
    document: dict[str, Any] = {
        "operationId": operation_id(op.method, op.path),
        "summary": op.summary,
        "parameters": parameters,
        "responses": responses,
    }
    if op.description is not None:
        document["description"] = op.description
    document["security"] = [] if op.public else [{"bearer": []}]
    if op.body is not None:
        schema = {"$ref": f"#/components/schemas/{op.body}"}
        document["requestBody"] = {
            "required": not op.body_optional,
            "content": {op.body_media_type: {"schema": schema}},
        }
    return document

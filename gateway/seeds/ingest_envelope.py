"""The Streaming Ingest API's error envelope (seed 001): `{"error": "<code>", "detail": "..."}`.

The document lists 400 `invalid_format`, 401 and 429. Every gateway error on its path is rendered here:

    400 invalid_format      invalid JSON, a bad field, a body over the size limit (the gateway's 413 too), a
                            Content-Type that is not JSON (the gateway's 415), a missing X-Stream-Id
    401 unauthorized        no valid bearer token
    403 forbidden           the key lacks the produce scope, or its stream patterns exclude the stream
    404 not_found           no stream with that id or name in the caller's namespace; unknown tenant
    405 method_not_allowed
    408 request_timeout     the body did not arrive within KAFKAGATE_BODY_READ_TIMEOUT_S (the connection closes)
    429 rate_limited        with Retry-After
    503 unavailable         Kafka unreachable; overloaded: the gateway's in-flight produce cap (Retry-After)
    504 timeout             Kafka did not acknowledge in time; the events may still be written
    500 internal_error

`index` is added when one event of an array body is at fault. Headers are the gateway's (`error_headers`).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from gateway import errors as ge
from gateway.responses import JSONResponse, error_headers
from schemas.ingest import IngestErrorCode

PATH = "/v1/streams/ingest"
# What each status means in this envelope (for the OpenAPI document).
STATUS_TEXT: dict[int, str] = {
    400: "invalid_format: invalid JSON, a bad timestamp, a missing source or event, a body over the size "
    "limit (nothing was written)",
    401: "unauthorized: token missing, unknown or expired",
    403: "forbidden: the key lacks the produce scope or its stream patterns exclude the stream",
    404: "not_found: no stream with that id or name for this caller",
    408: "request_timeout: the body did not arrive in time; nothing was written (the connection is closed)",
    429: "rate_limited: the key is over its quota; honour Retry-After, or batch events",
    500: "internal_error",
    503: "unavailable (Kafka unreachable) or overloaded (the gateway's in-flight cap); honour Retry-After",
    504: "timeout: Kafka did not acknowledge in time; the events may still be written",
}

# Checked in order: the first class an error is an instance of decides its status and code.
_CODES: tuple[tuple[type[ge.GatewayError], int, IngestErrorCode], ...] = (
    (ge.BadRequest, 400, "invalid_format"),
    (ge.PayloadTooLarge, 400, "invalid_format"),
    (ge.UnsupportedMediaType, 400, "invalid_format"),
    (ge.ValidationFailed, 400, "invalid_format"),
    (ge.Unauthorized, 401, "unauthorized"),
    (ge.Forbidden, 403, "forbidden"),
    (ge.NotFound, 404, "not_found"),
    (ge.MethodNotAllowed, 405, "method_not_allowed"),
    (ge.RequestTimeout, 408, "request_timeout"),
    (ge.QuotaExceeded, 429, "rate_limited"),
    (ge.Overloaded, 503, "overloaded"),
    (ge.BrokerUnavailable, 503, "unavailable"),
    (ge.OperationTimeout, 504, "timeout"),
)


def status_and_code(exc: ge.GatewayError) -> tuple[int, IngestErrorCode]:
    for cls, status, code in _CODES:
        if isinstance(exc, cls):
            return status, code
    return 500, "internal_error"


def _detail(exc: ge.GatewayError) -> str:
    if isinstance(exc, ge.PayloadTooLarge):
        return f"The payload exceeds the maximum size: {exc.detail}."
    if isinstance(exc, ge.UnsupportedMediaType):
        return f"Content-Type must be application/json: {exc.detail}."
    return exc.detail


def render(exc: ge.GatewayError, request_id: str) -> Response:
    status, code = status_and_code(exc)
    body: dict[str, Any] = {"error": code, "detail": _detail(exc)}
    index = exc.extra.get("index")
    if isinstance(index, int):
        body["index"] = index
    return JSONResponse(body, status_code=status, headers=error_headers(exc, request_id))

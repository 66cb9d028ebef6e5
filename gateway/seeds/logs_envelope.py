"""The event log API's error envelope (seed 002): every error on `/logs...` as

    {"success": false, "error": {"code": "not_found", "message": "log not found"}, "request_id": "req_..."}

The document answers `{"success": true, ...}` and shows no error body, so errors keep its `success` flag and
add what a client needs to act: a stable code, a message, and the request id (also in `X-Request-ID`).
Statuses are the gateway error's own:

    400 invalid_request        malformed JSON, a bad name, `after` that is not a sequence, a query that fails
    401 unauthorized           no or an invalid bearer token (exchange an API key at POST /auth/token)
    403 forbidden              the key lacks the scope (admin, produce, processors, consume)
    404 not_found              no such log or view in this tenant (another tenant's look the same)
    405 method_not_allowed
    408 request_timeout        the body did not arrive in time
    409 conflict               the tenant has a log of that name; an Idempotency-Key still in use
    413 payload_too_large
    415 unsupported_media_type a body sent as the wrong Content-Type; a WebAssembly view
    422 invalid_view           a view definition that does not compile (the message names the part);
                               an Idempotency-Key reused with another request
    429 rate_limited
    500 internal_error
    503 unavailable            Kafka unreachable or the gateway overloaded (Retry-After)
    504 timeout                Kafka did not acknowledge in time, or the view did not reach `after` in time
"""

from __future__ import annotations

from starlette.responses import Response

from gateway import errors as ge
from gateway.responses import JSONResponse, error_headers

PREFIX = "/logs"  # this envelope answers for the path and everything below it
INTERNAL_MESSAGE = "unexpected error; see the gateway log for this request id"

# The first row whose classes match decides; rows for subclasses come before their base classes.
_ROWS: tuple[tuple[tuple[type[ge.GatewayError], ...], str], ...] = (
    ((ge.ValidationFailed, ge.IdempotencyKeyReused), "invalid_view"),
    ((ge.BadRequest,), "invalid_request"),
    ((ge.Unauthorized,), "unauthorized"),
    ((ge.Forbidden,), "forbidden"),
    ((ge.NotFound,), "not_found"),
    ((ge.MethodNotAllowed,), "method_not_allowed"),
    ((ge.RequestTimeout,), "request_timeout"),
    ((ge.Conflict,), "conflict"),
    ((ge.PayloadTooLarge,), "payload_too_large"),
    ((ge.UnsupportedMediaType,), "unsupported_media_type"),
    ((ge.QuotaExceeded,), "rate_limited"),
    ((ge.BrokerUnavailable, ge.Overloaded), "unavailable"),
    ((ge.OperationTimeout,), "timeout"),
)
CODES = (*dict.fromkeys(code for _, code in _ROWS), "internal_error")


def describe(exc: ge.GatewayError) -> tuple[str, str]:
    """(code, message) of `exc` in this API's terms."""
    for classes, code in _ROWS:
        if isinstance(exc, classes):
            return code, exc.detail
    return "internal_error", INTERNAL_MESSAGE


def render(exc: ge.GatewayError, request_id: str) -> Response:
    code, message = describe(exc)
    error: dict[str, object] = {"code": code, "message": message}
    if isinstance(exc, ge.ValidationFailed):
        error["errors"] = exc.errors
    body = {"success": False, "error": error, "request_id": request_id}
    return JSONResponse(body, exc.status, error_headers(exc, request_id))


ERROR_SCHEMA = {
    "type": "object",
    "description": "The event log API's error envelope (seed 002), on every error of /logs",
    "required": ["success", "error", "request_id"],
    "properties": {
        "success": {"type": "boolean", "enum": [False]},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": list(CODES)},
                "message": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object"}, "description": "each invalid field"},
            },
        },
        "request_id": {"type": "string", "description": "also in the X-Request-ID header"},
    },
}

"""The Event Intake API's error envelope (seed 004): every error on `/v1/events...` as

    {"error": {"code": "invalid_request", "message": "Missing required field: event_type", "request_id": "req_..."}}

The document lists five codes; the gateway's errors map onto them, and onto a few more for statuses the
document does not list (its client sees the same envelope with a status it can still act on):

    400 invalid_request        malformed JSON, a missing or invalid field, an invalid timestamp, a wrong
                               Content-Type, an idempotency_key reused with another event
    401 unauthorized           "Missing or invalid token"
    403 forbidden              the key lacks the scope (produce, consume) or may not use the intake stream
    404 not_found              "Event not found"; other unknown paths
    405 method_not_allowed
    408 request_timeout        the body did not arrive within KAFKAGATE_BODY_READ_TIMEOUT_S (the connection closes)
    409 conflict               a request with this idempotency_key is still in progress (Retry-After)
    413 payload_too_large
    429 rate_limited           "Too many requests. Retry after N seconds." (Retry-After)
    500 internal_error         "Unexpected error"; details stay in the log under the request id
    503 unavailable            Kafka unreachable or the gateway overloaded (Retry-After)
    504 timeout                Kafka did not acknowledge in time; retry with the same idempotency_key

Statuses are the gateway error's own, except that refusals of the request itself (415, 422) are 400, as the
document has it; the idempotency layer decides from the status whether to keep a key, so statuses that mean
"nothing happened" stay 4xx.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response

from gateway import errors as ge
from gateway.responses import JSONResponse, error_headers

PREFIX = "/v1/events"  # this envelope answers for the path and everything below it
UNAUTHORIZED_MESSAGE = "Missing or invalid token"
NOT_FOUND_MESSAGE = "Event not found"
INTERNAL_MESSAGE = "Unexpected error"
REUSED_MESSAGE = "idempotency_key has already been used with a different event"


Message = Callable[[ge.GatewayError], str]


def _retry(prefix: str) -> Message:
    return lambda exc: prefix if exc.retry_after_s is None else f"{prefix} Retry after {exc.retry_after_s} seconds."


def _detail(exc: ge.GatewayError) -> str:
    return exc.detail[:1].upper() + exc.detail[1:]


def _fixed(message: str) -> Message:
    return lambda _: message


TIMEOUT_MESSAGE = "Kafka did not acknowledge in time; the event may have been accepted. Retry with the same key."

# The first row whose classes match decides; rows for subclasses come before their base classes.
_ROWS: tuple[tuple[tuple[type[ge.GatewayError], ...], int, str, Message], ...] = (
    ((ge.IdempotencyKeyReused,), 400, "invalid_request", _fixed(REUSED_MESSAGE)),
    ((ge.BadRequest, ge.UnsupportedMediaType, ge.ValidationFailed), 400, "invalid_request", _detail),
    ((ge.Unauthorized,), 401, "unauthorized", _fixed(UNAUTHORIZED_MESSAGE)),
    ((ge.Forbidden,), 403, "forbidden", _detail),
    ((ge.EventNotFound, ge.StreamNotFound), 404, "not_found", _fixed(NOT_FOUND_MESSAGE)),
    ((ge.NotFound,), 404, "not_found", _detail),
    ((ge.MethodNotAllowed,), 405, "method_not_allowed", _detail),
    ((ge.RequestTimeout,), 408, "request_timeout", _detail),
    ((ge.IdempotencyKeyInUse,), 409, "conflict", _retry("A request with this idempotency_key is still in progress.")),
    ((ge.Conflict,), 409, "conflict", _detail),
    ((ge.PayloadTooLarge,), 413, "payload_too_large", _detail),
    ((ge.QuotaExceeded,), 429, "rate_limited", _retry("Too many requests.")),
    ((ge.BrokerUnavailable, ge.Overloaded), 503, "unavailable", _retry("Service unavailable.")),
    ((ge.OperationTimeout,), 504, "timeout", _fixed(TIMEOUT_MESSAGE)),
)
CODES = (*dict.fromkeys(code for _, _, code, _ in _ROWS), "internal_error")


def describe(exc: ge.GatewayError) -> tuple[int, str, str]:
    """(status, code, message) of `exc` in this document's terms."""
    for classes, status, code, message in _ROWS:
        if isinstance(exc, classes):
            return status, code, message(exc)
    return 500, "internal_error", INTERNAL_MESSAGE


def render(exc: ge.GatewayError, request_id: str) -> Response:
    """`exc` as the Event Intake API answers it, with `X-Request-ID`, `Retry-After` and `WWW-Authenticate`."""
    status, code, message = describe(exc)
    body = {"error": {"code": code, "message": message, "request_id": request_id}}
    return JSONResponse(body, status, error_headers(exc, request_id))


ERROR_SCHEMA = {
    "type": "object",
    "description": "The Event Intake API's error envelope (seed 004), on every error of /v1/events",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "request_id"],
            "properties": {
                "code": {"type": "string", "enum": list(CODES)},
                "message": {"type": "string"},
                "request_id": {"type": "string", "description": "also in the X-Request-ID header"},
            },
        }
    },
}

"""The lake API's error envelope (seed 000): errors on `/v1/tenants`, `/v1/schemas`, `/v1/datasets` and
`/v1/collect` as the FastAPI service of the document answers them, with kafkagate's symbolic code and request id:

    {"detail": "dataset 'orders' does not exist", "error": "NOT_FOUND", "request_id": "..."}

A 422 adds `errors`, one entry per violation (`field` a JSON pointer into the body, e.g. `/payload/amount`).
Statuses are the gateway error's own: 400 malformed, 401, 403, 404 (another tenant's resources too), 409 (a uri
or slug in use, a published schema changed), 413, 415, 422, 429, 503 (Retry-After), 504.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from gateway import errors as ge
from gateway.responses import JSONResponse, error_headers

PREFIXES = ("/v1/tenants", "/v1/schemas", "/v1/datasets", "/v1/collect")
INTERNAL_MESSAGE = "Internal server error; the gateway log has it under the request id"


def render(exc: ge.GatewayError, request_id: str) -> Response:
    detail = exc.detail if exc.status < 500 or exc.retriable else INTERNAL_MESSAGE
    body: dict[str, Any] = {"detail": detail, "error": exc.error, "request_id": request_id}
    if isinstance(exc, ge.ValidationFailed):
        body["errors"] = exc.errors
    return JSONResponse(body, exc.status, error_headers(exc, request_id))


ERROR_SCHEMA = {
    "type": "object",
    "description": "The lake API's error envelope (seed 000)",
    "required": ["detail", "error", "request_id"],
    "properties": {
        "detail": {"type": "string"},
        "error": {"type": "string", "enum": sorted({cls.error for cls in ge.ALL_ERRORS})},
        "request_id": {"type": "string", "description": "also in the X-Request-ID header"},
        "errors": {"type": "array", "items": {"type": "object"}, "description": "each violation (422)"},
    },
}

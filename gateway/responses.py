"""orjson-rendered responses, including RFC 9457 problem documents."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from gateway.errors import GatewayError, problem_body


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class ProblemResponse(JSONResponse):
    media_type = "application/problem+json"


def error_headers(exc: GatewayError, request_id: str) -> dict[str, str]:
    """The headers every error carries whatever its envelope: `X-Request-ID`, the error class's own (e.g.
    `WWW-Authenticate` on a 401) and `Retry-After` when retrying later can help.

    The request id header is set here too: responses for unhandled errors and those written by middleware
    bypass RequestIdMiddleware on their way out.
    """
    headers = {**exc.response_headers, "x-request-id": request_id}
    if exc.retry_after_s is not None:
        headers["retry-after"] = str(exc.retry_after_s)
    return headers


def problem_response(exc: GatewayError, path: str, request_id: str) -> ProblemResponse:
    """The problem document for `exc`, with `error_headers`."""
    body = problem_body(exc, instance=path, request_id=request_id)
    return ProblemResponse(body, exc.status, error_headers(exc, request_id))

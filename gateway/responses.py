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


def problem_response(exc: GatewayError, path: str, request_id: str) -> ProblemResponse:
    """The problem document for `exc`, with its class's headers and `Retry-After` when it has one.

    The request id header is set here too: responses for unhandled errors and those written by middleware
    bypass RequestIdMiddleware on their way out.
    """
    headers = {**exc.headers, "x-request-id": request_id}
    if exc.retry_after_s is not None:
        headers["retry-after"] = str(exc.retry_after_s)
    return ProblemResponse(problem_body(exc, instance=path, request_id=request_id), exc.status, headers)

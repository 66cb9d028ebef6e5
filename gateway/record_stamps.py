"""The headers the gateway adds to every record it writes for a request, whichever API the request came in by."""

from __future__ import annotations

from starlette.requests import Request

from gateway import idempotency
from gateway.context import request_id

REQUEST_ID_HEADER = "x-request-id"


def stamps(request: Request, idempotency_key: str | None = None) -> list[tuple[str, bytes]]:
    """The request id and the idempotency key (`idempotency_key`, else the `Idempotency-Key` header, if any)."""
    found = [(REQUEST_ID_HEADER, request_id(request).encode())]
    key = idempotency_key if idempotency_key is not None else request.headers.get(idempotency.HEADER)
    if key is not None:
        found.append((idempotency.RECORD_HEADER, key.encode()))
    return found

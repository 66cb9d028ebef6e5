"""Error envelopes: which document's error format a response takes, chosen by the request path.

The native API answers every error as RFC 9457 problem+json. Each seed API answers in its own document's
envelope: its module provides a renderer from a `GatewayError` to that document's status and body, and
`ENVELOPES` maps its path prefix to it. Everything that renders an error (the app's exception handlers and the
middleware that refuse requests before any route runs: authentication, quotas, overload) calls
`error_response`, so a client of a seed API never sees an envelope its document does not describe.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response

from gateway.errors import GatewayError
from gateway.responses import error_headers, problem_response
from gateway.seeds import ingest_envelope, intake_envelope, lake_envelope, logs_envelope

__all__ = ["ENVELOPES", "Renderer", "error_headers", "error_response", "renderer_for"]

# (exc, request_id) -> the response in the seed document's envelope.
Renderer = Callable[[GatewayError, str], Response]

# Path prefixes (a prefix matches itself and everything below it), most specific first.
ENVELOPES: tuple[tuple[str, Renderer], ...] = (
    (intake_envelope.PREFIX, intake_envelope.render),
    (ingest_envelope.PATH, ingest_envelope.render),
    (logs_envelope.PREFIX, logs_envelope.render),
    *((prefix, lake_envelope.render) for prefix in lake_envelope.PREFIXES),
)


def renderer_for(path: str) -> Renderer | None:
    for prefix, render in ENVELOPES:
        if path == prefix or path.startswith(prefix + "/"):
            return render
    return None


def error_response(exc: GatewayError, path: str, request_id: str) -> Response:
    """`exc` as the API that owns `path` renders errors (problem+json unless a seed API owns it)."""
    render = renderer_for(path)
    if render is None:
        return problem_response(exc, path, request_id)
    return render(exc, request_id)

"""Authorization: which scope each route needs, and which streams a key's patterns let it touch.

Routes are registered through `guarded(scope, endpoint)`: a request without the scope is 403 before the endpoint
runs, and so is a `{stream}` path parameter outside the key's stream patterns. Endpoints that name streams in
their body (commits, resets, processor specs) call `require_stream` themselves.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import Forbidden
from gateway.principal import Principal, Scope, principal

Endpoint = Callable[[Request], Awaitable[Response]]


def require_scope(who: Principal, scope: Scope) -> None:
    if scope not in who.scopes:
        raise Forbidden(f"this key lacks the {scope!r} scope")


def stream_allowed(who: Principal, stream: str) -> bool:
    return who.streams is None or any(fnmatch.fnmatchcase(stream, pattern) for pattern in who.streams)


def require_stream(who: Principal, stream: str) -> None:
    if not stream_allowed(who, stream):
        raise Forbidden(f"this key may not use stream {stream!r}")


def require_root(who: Principal) -> None:
    if not who.root:
        raise Forbidden("only the root credential may do this")


def guarded(scope: Scope, endpoint: Endpoint) -> Endpoint:
    """`endpoint`, run only for principals holding `scope` (and allowed the `{stream}` in the path, if any)."""

    @wraps(endpoint)
    async def checked(request: Request) -> Response:
        who = principal(request)
        require_scope(who, scope)
        stream = request.path_params.get("stream")
        if stream is not None:
            require_stream(who, stream)
        return await endpoint(request)

    return checked

"""Per-request telemetry: the HTTP metrics, the log context and the access log line, in one pure ASGI middleware.

It sits right after the request id middleware, so it times everything the gateway does for a request (the
authentication, quota and overload refusals included) and every log line after it knows the request id.

The route label is the template of the route that served the request, which Starlette's router leaves in
`scope["route"]`. A request refused before routing (401, 429, 503 overload) never reaches the router; its
template is looked up here, in the same route list, which costs a regex match per route for refused requests
only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.log_format import REQUEST_STATE
from gateway.metrics import UNMATCHED, GatewayMetrics

access_log = logging.getLogger("kafkagate.access")


def route_template(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    """The template of the route serving `scope` (`/api/v1/streams/{stream}/events`), `_unmatched` if none."""
    route = scope.get("route")
    if route is None:
        partial = None
        for candidate in routes:
            match, _ = candidate.matches(scope)
            if match is Match.FULL:
                route = candidate
                break
            if match is Match.PARTIAL and partial is None:
                partial = candidate  # the path exists, the method does not: Starlette answers 405 for it
        route = route or partial
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class TelemetryMiddleware:
    """Counts and times every HTTP request by route template, method and status, and logs one access line.

    `access_log=False` keeps the metrics and drops the access lines (`KAFKAGATE_ACCESS_LOG`).
    """

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics, routes: Sequence[BaseRoute], access_log: bool = True):
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        token = REQUEST_STATE.set(scope.setdefault("state", {}))
        status = 500  # what the client sees when the app fails before starting a response
        sent_bytes = 0

        async def observed_send(message: Message) -> None:
            nonlocal status, sent_bytes
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent_bytes += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            duration_s = time.perf_counter() - started
            route = route_template(scope, self.routes)
            method: str = scope["method"]
            self.metrics.request(route, method, status, duration_s)
            if self.access_log:
                self._log(scope, route, method, status=status, duration_s=duration_s, sent_bytes=sent_bytes)
            REQUEST_STATE.reset(token)

    @staticmethod
    def _log(scope: Scope, route: str, method: str, *, status: int, duration_s: float, sent_bytes: int) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        duration_ms = round(duration_s * 1000, 3)
        fields: dict[str, Any] = {
            "method": method,
            "route": route,
            "path": scope["path"],
            "status": status,
            "duration_ms": duration_ms,
            "bytes": sent_bytes,
        }
        access_log.info("%s %s %d %.1fms %dB", method, scope["path"], status, duration_ms, sent_bytes, extra=fields)

"""What the request telemetry costs per request, measured in-process: `python -m bench.telemetry`.

The same synthetic ASGI produce request goes through a do-nothing endpoint behind the request id middleware,
then with `TelemetryMiddleware` added (metrics only, then metrics and an access line in each log format, written
to /dev/null). The differences between variants are the telemetry's cost alone; no broker is needed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Scope

from gateway import log_format
from gateway.log_format import LogFormat
from gateway.metrics import GatewayMetrics
from gateway.middleware import RequestIdMiddleware
from gateway.telemetry import TelemetryMiddleware

REQUESTS = 20_000
ROUNDS = 3
_SCOPE: Scope = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "POST",
    "scheme": "http",
    "path": "/api/v1/streams/orders/events",
    "raw_path": b"/api/v1/streams/orders/events",
    "root_path": "",
    "query_string": b"",
    "headers": [],
    "server": ("gateway", 80),
    "client": ("client", 1),
}


async def _ok(_: Request) -> Response:
    return Response(b"{}", 201)


def _app(*, telemetry: bool, access_log: bool) -> Starlette:
    routes = [Route("/api/v1/streams/{stream}/events", _ok, methods=["POST"])]
    middleware = [Middleware(RequestIdMiddleware)]
    if telemetry:
        middleware.append(
            Middleware(TelemetryMiddleware, metrics=GatewayMetrics(), routes=routes, access_log=access_log)
        )
    return Starlette(routes=routes, middleware=middleware)


async def _per_request_us(app: Starlette) -> float:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: Message) -> None:
        return None

    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(REQUESTS):
            await app({**_SCOPE, "state": {}}, receive, send)
        best = min(best, (time.perf_counter() - started) / REQUESTS * 1e6)
    return best


async def measure() -> dict[str, float]:
    """Microseconds per request of each variant (the best of `ROUNDS` runs of `REQUESTS` requests)."""
    variants: list[tuple[str, bool, bool, LogFormat | None]] = [
        ("request id only (baseline)", False, False, None),
        ("+ metrics", True, False, None),
        ("+ metrics + text access line", True, True, "text"),
        ("+ metrics + json access line", True, True, "json"),
    ]
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    results: dict[str, float] = {}
    with open(os.devnull, "w") as devnull:  # noqa: ASYNC230 - opened once, before the measured loop
        try:
            for name, telemetry, access_log, fmt in variants:
                root.handlers[:] = [log_format.handler(fmt, devnull)] if fmt else []
                root.setLevel(logging.INFO)
                results[name] = await _per_request_us(_app(telemetry=telemetry, access_log=access_log))
        finally:
            root.handlers[:] = saved
            root.setLevel(level)
    return results


def main() -> None:
    for name, us in asyncio.run(measure()).items():
        print(f"{name:32s} {us:6.1f} us/request")


if __name__ == "__main__":
    main()

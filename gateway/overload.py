"""Overload protection: a cap on the produce-body bytes one gateway holds at once (`max_inflight_produce_bytes`).

A produce request holds its body in memory from the moment it is read until it is answered (Kafka's
acknowledgement can take up to `produce_timeout_ms`). Without a cap, a slow broker turns into unbounded memory;
with it, the gateway answers 503 `OVERLOADED` with `Retry-After` and the client backs off.

A request reserves its declared Content-Length before the route reads a byte, so a refusal costs nothing and
the reservation is the most the request can hold. A body without a declared length reserves `max_body_bytes`,
the most the route will read before refusing it with 413. The reservation is released when the response is
complete, or when the request ends any other way (client gone, error, cancellation).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.bodies import declared_length
from gateway.envelopes import error_response
from gateway.errors import Overloaded

ProduceRoute = Callable[[str, str], bool]  # (method, path) -> whether the request carries events to produce


@dataclass(frozen=True, slots=True)
class RoutePattern:
    method: str
    path: re.Pattern[str]

    def __call__(self, method: str, path: str) -> bool:
        return method == self.method and self.path.fullmatch(path) is not None


# Every route whose body becomes records; a new produce surface (a seed ingest route) adds its pattern here.
PRODUCE_ROUTES: tuple[RoutePattern, ...] = (
    RoutePattern("POST", re.compile(r"/api/v1/streams/[^/]+/events")),
    RoutePattern("POST", re.compile(r"/api/v1/streams/[^/]+/events/batch")),
    RoutePattern("POST", re.compile(r"/v1/events")),  # seed 004, gateway.seeds.intake
    RoutePattern("POST", re.compile(r"/v1/streams/ingest")),
)


def is_produce(method: str, path: str) -> bool:
    return any(route(method, path) for route in PRODUCE_ROUTES)


class InflightBytes:
    """Bytes reserved by requests in flight, never more than `cap` in total."""

    def __init__(self, cap: int):
        self.cap = cap
        self.reserved = 0

    def try_reserve(self, size: int) -> bool:
        if self.reserved + size > self.cap:
            return False
        self.reserved += size
        return True

    def release(self, size: int) -> None:
        self.reserved -= size

    def get(self) -> float:
        """Bytes reserved now (the in-flight gauge)."""
        return self.reserved

    def capacity(self) -> float:
        return self.cap


class OverloadMiddleware:
    """Pure ASGI, after rate limiting: a key over its quota must not take the gateway's capacity first."""

    def __init__(
        self,
        app: ASGIApp,
        inflight: InflightBytes,
        *,
        max_body_bytes: int,
        retry_after_s: int,
        produce_route: ProduceRoute = is_produce,
    ):
        self.app = app
        self.inflight = inflight
        self.max_body_bytes = max_body_bytes
        self.retry_after_s = retry_after_s
        self.produce_route = produce_route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.produce_route(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        size = self.max_body_bytes if declared is None else min(declared, self.max_body_bytes)
        if not self.inflight.try_reserve(size):
            refused = Overloaded(
                f"this gateway already holds {self.inflight.reserved} bytes of produce requests in flight "
                f"(the limit is {self.inflight.cap}); retry in {self.retry_after_s} s",
                retry_after_s=self.retry_after_s,
            )
            await error_response(refused, scope["path"], scope["state"]["request_id"])(scope, receive, send)
            return
        held = size

        def release() -> None:
            nonlocal held
            self.inflight.release(held)
            held = 0

        async def send_releasing(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                release()  # answered: the client may send the next request now, and should not meet the cap

        try:
            await self.app(scope, receive, send_releasing)
        finally:
            release()

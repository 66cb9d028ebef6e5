"""Rate limiting: every authenticated request spends its key's tokens (`gateway.quotas`) or gets 429.

Pure ASGI, after authentication (it needs the principal) and before the routes, so a refused request costs
no body read and no Kafka call. Public paths are not limited. Successes carry the RateLimit fields too.

Body bytes are charged up front from Content-Length, so an over-quota upload is refused before it is read.
A body without a declared length (chunked) is charged chunk by chunk as the route reads it: refusing halfway
would abort a request already being handled, so its bytes become debt that refuses the key's next requests.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.authentication import is_public
from gateway.bodies import declared_length
from gateway.envelopes import error_response
from gateway.errors import QuotaExceeded
from gateway.principal import Principal
from gateway.quotas import Quota, QuotaTable, resolve
from gateway.ratelimit_fields import fields


class RateLimitMiddleware:
    """`default` is the quota of keys without their own (`KAFKAGATE_RATE_LIMIT_*`); `on_refused` is called once
    per refused request (the rate-limit counter)."""

    def __init__(self, app: ASGIApp, table: QuotaTable, default: Quota, on_refused: Callable[[], None] = lambda: None):
        self.app = app
        self.table = table
        self.default = default
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        state = scope["state"]
        principal: Principal = state["principal"]
        quota = resolve(principal.rate_limit, self.default)
        if quota.unlimited:
            await self.app(scope, receive, send)
            return
        body_bytes = declared_length(scope)
        decision = self.table.admit(principal.key_id, quota, body_bytes)
        headers = fields(quota, decision)
        if not decision.admitted:
            self.on_refused()
            refused = QuotaExceeded(
                f"key {principal.key_id!r} is over its {' and '.join(decision.violated)} quota; "
                f"retry in {decision.retry_after_s} s",
                retry_after_s=decision.retry_after_s,
                extra={"violated-policies": list(decision.violated)},  # the draft's quota-exceeded member
            )
            response = error_response(refused, scope["path"], state["request_id"])
            response.raw_headers.extend(headers)
            await response(scope, receive, send)
            return

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        if body_bytes is None and quota.bytes_per_s:
            key_id, table = principal.key_id, self.table

            async def counting_receive() -> Message:
                message = await receive()
                if message["type"] == "http.request":
                    table.charge_bytes(key_id, quota, len(message.get("body", b"")))
                return message

            await self.app(scope, counting_receive, send_with_fields)
            return
        await self.app(scope, receive, send_with_fields)

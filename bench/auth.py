"""What authentication costs per request, measured in-process for each kind of credential.

The gateway's own authentication middleware, over the real key and tenant stores (tailed from the bench's
broker), sits in front of an endpoint that does nothing; each variant is driven with the same synthetic ASGI
request, so the differences between variants are the middleware's cost alone. The baseline is
`KAFKAGATE_AUTH=off`, where the middleware only sets the open principal.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bench.measurement import Measurement, Window
from gateway.authentication import AuthenticationMiddleware, KeyAuthenticator
from gateway.kafka.clients import KafkaClients
from gateway.keys import KeyStore
from gateway.settings import Settings
from gateway.tenants import TenantStore
from gateway.tokens import issue_access_token
from schemas.keys import KeyCreate
from schemas.tenants import TenantCreate

SCENARIO = "auth per request"
BASELINE = "auth off"


async def _nothing(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _scope(token: str | None) -> Callable[[], Scope]:
    headers = [] if token is None else [(b"authorization", f"Bearer {token}".encode())]

    def build() -> Scope:
        return {"type": "http", "method": "POST", "path": "/api/v1/streams/s/events", "headers": headers, "state": {}}

    return build


async def _drive(app: ASGIApp, side: str, token: str | None, count: int) -> Measurement:
    build = _scope(token)
    statuses: list[int] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    latencies: list[float] = []
    with Window(None) as window:
        for _ in range(count):
            started = time.perf_counter()
            await app(build(), _receive, send)
            latencies.append(time.perf_counter() - started)
    if set(statuses) != {204}:
        raise RuntimeError(f"{side}: the middleware answered {sorted(set(statuses))}, expected only 204")
    return Measurement(SCENARIO, side, count, window.seconds, latencies)


async def auth_overhead(bootstrap: str, count: int) -> list[Measurement]:
    """`count` requests per credential kind: none (auth off), root token, API key, tenant API key, JWT."""
    root_token = secrets.token_urlsafe(32)
    settings = Settings(bootstrap_servers=bootstrap, auth="required", admin_token=root_token)  # type: ignore[arg-type]
    clients = KafkaClients(settings)
    await clients.start()
    try:
        await clients.wait_ready(30)
        keys, tenants = KeyStore(clients.keys), TenantStore(clients.tenants)
        key = await keys.create(KeyCreate(name="bench", scopes=["produce"]), None)
        tenant = await tenants.create(TenantCreate(slug=f"bench{secrets.token_hex(4)}", name="bench"))
        tenant_key = await keys.create(KeyCreate(name="bench-tenant", scopes=["produce"]), tenant.id)
        kid, secret = await keys.signing_secret()
        jwt = issue_access_token(key.key.keyId, kid, secret, int(time.time()), settings.jwt_ttl_s)
        guarded = AuthenticationMiddleware(_nothing, KeyAuthenticator(root_token, keys, tenants))
        variants: list[tuple[ASGIApp, str, str | None]] = [
            (AuthenticationMiddleware(_nothing, None), BASELINE, None),
            (guarded, "root token", root_token),
            (guarded, "API key", key.token),
            (guarded, "tenant API key", tenant_key.token),
            (guarded, "access token", jwt),
        ]
        for app, side, token in variants:  # warm-up: first lookups, caches
            await _drive(app, side, token, min(count, 200))
        return [await _drive(app, side, token, count) for app, side, token in variants]
    finally:
        await clients.close()


def overhead_lines(measurements: list[Measurement]) -> list[str]:
    """One line per credential kind: median microseconds per request above the baseline."""
    runs = [m for m in measurements if m.scenario == SCENARIO]
    base = next((m for m in runs if m.side == BASELINE), None)
    if base is None:
        return []
    lines = [f"authentication, median per request (in-process, {base.events:,} requests each):"]
    for m in runs:
        extra = m.percentile_ms(0.5) - base.percentile_ms(0.5)
        lines.append(f"  {m.side:<16} {m.percentile_ms(0.5) * 1000:7.1f} us   (+{extra * 1000:.1f} us over auth off)")
    return lines

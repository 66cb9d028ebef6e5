"""The application factory: `create_app(settings, kafka=...)` wires routes, middleware and error rendering."""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route

from gateway import errors as ge
from gateway.authentication import AuthenticationMiddleware, Authenticator, KeyAuthenticator, OpenAuthenticator
from gateway.authorization import guarded
from gateway.context import GatewayContext, request_id
from gateway.envelopes import error_response
from gateway.idempotency import IdempotencyKeys, idempotent
from gateway.kafka.clients import KafkaClients
from gateway.kafka.translate import kafka_cause
from gateway.keys import KeyStore
from gateway.lake.services import LakeServices
from gateway.metrics import GatewayMetrics
from gateway.middleware import RequestIdMiddleware
from gateway.openapi import build_openapi
from gateway.overload import InflightBytes, OverloadMiddleware
from gateway.pages import routes as page_routes
from gateway.publishing import Publisher
from gateway.push_streams import PushStreams
from gateway.quotas import Quota, QuotaTable
from gateway.rate_limiting import RateLimitMiddleware
from gateway.responses import JSONResponse
from gateway.routes import (
    access_tokens,
    consume,
    consumers,
    keys,
    processor_state,
    processors,
    produce,
    push,
    stream_schemas,
    streams,
    tenants,
)
from gateway.seeds import ingest, intake, lake, logs
from gateway.settings import Settings
from gateway.telemetry import TelemetryMiddleware
from gateway.tenants import TenantStore

log = logging.getLogger(__name__)


def problem(request: Request, exc: ge.GatewayError) -> Response:
    cause = kafka_cause(exc)
    if cause is not None:
        request.app.state.gateway.metrics.kafka_errors.labels(exc.error, cause).inc()
    return error_response(exc, request.url.path, request_id(request))


async def on_gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ge.GatewayError)  # noqa: S101 - registered for this type only
    return problem(request, exc)


def allowed_methods(request: Request) -> list[str]:
    """The methods served on this request's path template (RFC 9110 wants them all in a 405's Allow; starlette
    names only those of the first route that matched). The template is the first matching route's, as routing
    picks it: `/events/batch` is the batch route's, not `/events/{event_id}` with the id `batch`."""
    routes = [route for route in request.app.routes if isinstance(route, Route)]
    matched = next((route for route in routes if route.matches(request.scope)[0] is not Match.NONE), None)
    if matched is None:
        return []
    # Templates that differ only in parameter names (`/logs/{name}`, `/logs/{log_id}`) are one path.
    template = _shape(matched.path)
    return sorted({method for route in routes if _shape(route.path) == template for method in route.methods or ()})


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for this type only
    error: ge.GatewayError
    if exc.status_code == 404:
        error = ge.NotFound(f"no route for {request.method} {request.url.path}")
    elif exc.status_code == 405:
        allow = ", ".join(allowed_methods(request))
        error = ge.MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}", headers={"allow": allow})
    else:
        error = ge.BadRequest(str(exc.detail))
    return problem(request, error)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, ge.GatewayError("unexpected error; see the gateway log for this request id"))


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    ctx: GatewayContext = request.app.state.gateway
    ctx.kafka.require_ready()
    await ctx.kafka.admin.ping()
    return JSONResponse({"status": "ready", "bootstrapServers": ctx.settings.bootstrap_servers})


async def openapi(request: Request) -> Response:
    return JSONResponse(request.app.state.openapi)


async def metrics(request: Request) -> Response:
    """Prometheus text format. Public like /healthz (scrapers rarely hold API keys, and the metrics name streams
    but no data) unless KAFKAGATE_METRICS_TOKEN is set, which scrapers then send as a bearer token."""
    ctx: GatewayContext = request.app.state.gateway
    token = ctx.settings.metrics_token
    if token is not None:
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token.get_secret_value()}".encode()):
            raise ge.Unauthorized("GET /metrics wants KAFKAGATE_METRICS_TOKEN as a bearer token")
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def routes() -> list[Route]:
    api = "/api/v1"
    streams_ = f"{api}/streams/{{stream}}"
    group = f"{api}/consumers/{{group}}"
    processor = f"{api}/processors/{{processor_id}}"
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/auth/token", access_tokens.exchange, methods=["POST"]),
        Route(f"{api}/streams", guarded("admin", idempotent(streams.create_stream)), methods=["POST"]),
        Route(f"{api}/streams", guarded("admin", streams.list_streams), methods=["GET"]),
        Route(streams_, guarded("admin", streams.get_stream), methods=["GET"]),
        Route(streams_, guarded("admin", streams.patch_stream), methods=["PATCH"]),
        Route(streams_, guarded("admin", streams.delete_stream), methods=["DELETE"]),
        Route(f"{streams_}/schema", guarded("admin", stream_schemas.put_schema), methods=["PUT"]),
        Route(f"{streams_}/schema", guarded("admin", stream_schemas.get_schema), methods=["GET"]),
        Route(f"{streams_}/schema", guarded("admin", stream_schemas.delete_schema), methods=["DELETE"]),
        Route(f"{streams_}/events", guarded("produce", idempotent(produce.publish_event)), methods=["POST"]),
        Route(f"{streams_}/events/batch", guarded("produce", idempotent(produce.publish_batch)), methods=["POST"]),
        Route(f"{streams_}/events", guarded("consume", push.negotiated(consume.poll)), methods=["GET"]),
        Route(f"{streams_}/events/{{event_id}}", guarded("consume", consume.get_event), methods=["GET"]),
        Route(
            f"{streams_}/partitions/{{partition:int}}/events",
            guarded("consume", consume.read_partition),
            methods=["GET"],
        ),
        Route(f"{streams_}/offsets", guarded("consume", consume.offsets_for_time), methods=["GET"]),
        Route(f"{api}/consumers", guarded("admin", consumers.list_groups), methods=["GET"]),
        Route(group, guarded("admin", consumers.describe_group), methods=["GET"]),
        Route(group, guarded("admin", consumers.delete_group), methods=["DELETE"]),
        Route(f"{group}/commit", guarded("consume", idempotent(consumers.commit)), methods=["POST"]),
        Route(f"{group}/reset", guarded("consume", consumers.reset), methods=["POST"]),
        Route(f"{group}/sessions", guarded("consume", consumers.close_sessions), methods=["DELETE"]),
        Route(f"{api}/processors", guarded("processors", idempotent(processors.create_processor)), methods=["POST"]),
        Route(f"{api}/processors", guarded("processors", processors.list_processors), methods=["GET"]),
        Route(processor, guarded("processors", processors.get_processor), methods=["GET"]),
        Route(processor, guarded("processors", processors.update_processor), methods=["PUT"]),
        Route(processor, guarded("processors", processors.delete_processor), methods=["DELETE"]),
        Route(f"{processor}/pause", guarded("processors", processors.pause_processor), methods=["POST"]),
        Route(f"{processor}/resume", guarded("processors", processors.resume_processor), methods=["POST"]),
        Route(f"{processor}/metrics", guarded("processors", processors.processor_metrics), methods=["GET"]),
        Route(f"{processor}/state", guarded("consume", processor_state.processor_state), methods=["GET"]),
        Route(f"{api}/keys", guarded("admin", keys.create_key), methods=["POST"]),
        Route(f"{api}/keys", guarded("admin", keys.list_keys), methods=["GET"]),
        Route(f"{api}/keys/{{key_id}}", guarded("admin", keys.get_key), methods=["GET"]),
        Route(f"{api}/keys/{{key_id}}", guarded("admin", keys.revoke_key), methods=["DELETE"]),
        Route(f"{api}/tenants", guarded("admin", tenants.create_tenant), methods=["POST"]),
        Route(f"{api}/tenants", guarded("admin", tenants.list_tenants), methods=["GET"]),
        Route(f"{api}/tenants/{{tenant}}", guarded("admin", tenants.get_tenant), methods=["GET"]),
        # Seed APIs: each answers in its own document's envelope (gateway.envelopes).
        Route("/v1/streams/ingest", guarded("produce", ingest.ingest), methods=["POST"]),
        *intake.routes(),
        *logs.routes(),
        *lake.routes(),
    ]


def authenticator(settings: Settings, keys: KeyStore, tenants: TenantStore) -> Authenticator:
    if settings.auth == "off":
        return OpenAuthenticator(tenants)
    assert settings.admin_token is not None  # noqa: S101 - Settings refuses auth=required without one
    return KeyAuthenticator(settings.admin_token.get_secret_value(), keys, tenants)


def create_app(settings: Settings, kafka: KafkaClients | None = None, quotas: QuotaTable | None = None) -> Starlette:
    """Build the gateway. Pass `kafka` to share or inspect clients; by default the app owns its own.
    `quotas` holds the per-key token buckets (pass one with its own clock to test them)."""
    clients = kafka or KafkaClients(settings)
    default_quota = Quota(settings.rate_limit_requests_per_s, settings.rate_limit_bytes_per_s)
    owned = kafka is None
    jwt_secret = None if settings.jwt_secret is None else settings.jwt_secret.get_secret_value()
    key_store = KeyStore(clients.keys, jwt_secret)
    tenant_store = TenantStore(clients.tenants)
    telemetry = GatewayMetrics(settings.metrics_max_streams)
    inflight = InflightBytes(settings.max_inflight_produce_bytes)
    push_streams = PushStreams(
        settings.sse_resume_window_events, settings.consumer_idle_timeout_ms / 1000, settings.consumer_max_members
    )
    telemetry.watch(
        [
            ("kafkagate_consumer_members", "Consumer members this gateway holds", lambda: len(clients.sessions)),
            ("kafkagate_produce_inflight_bytes", "Produce body bytes reserved by requests in flight", inflight.get),
            ("kafkagate_produce_inflight_capacity_bytes", "KAFKAGATE_MAX_INFLIGHT_PRODUCE_BYTES", inflight.capacity),
            ("kafkagate_sse_connections", "Event-stream (SSE) connections open", push_streams.connections),
            (
                "kafkagate_sse_buffered_events",
                "Events read for SSE connections, not yet written",
                push_streams.buffered_events,
            ),
            ("kafkagate_sse_blocked_writes", "SSE connections waiting for their client to read", push_streams.writing),
        ]
    )
    route_table: list[BaseRoute] = [*routes(), *page_routes()]
    lake_services = LakeServices(settings, clients)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if owned:
            await clients.start()
        try:
            yield
        finally:
            await lake_services.close()
            if owned:
                await clients.close()

    app = Starlette(
        routes=route_table,
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(TelemetryMiddleware, metrics=telemetry, routes=route_table, access_log=settings.access_log),
            Middleware(AuthenticationMiddleware, authenticator=authenticator(settings, key_store, tenant_store)),
            Middleware(
                RateLimitMiddleware,
                table=quotas or QuotaTable(),
                default=default_quota,
                on_refused=telemetry.rate_limited.inc,
            ),
            Middleware(
                OverloadMiddleware,
                inflight=inflight,
                max_body_bytes=settings.max_body_bytes,
                retry_after_s=settings.retry_after_s,
            ),
        ],
        exception_handlers={
            ge.GatewayError: on_gateway_error,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.gateway = GatewayContext(
        settings=settings,
        kafka=clients,
        keys=key_store,
        tenants=tenant_store,
        publisher=Publisher(settings, clients, metrics=telemetry),
        metrics=telemetry,
    )
    app.state.push = push_streams
    app.state.lake = lake_services
    app.state.idempotency = IdempotencyKeys(settings, clients.idempotency, on_replay=telemetry.idempotent_replays.inc)
    app.state.openapi = build_openapi(version("kafkagate"), settings)
    return app

"""The application factory: `create_app(settings, kafka=...)` wires routes, middleware and error rendering."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import errors as ge
from gateway.authentication import AuthenticationMiddleware, Authenticator, RootTokenAuthenticator
from gateway.context import GatewayContext, request_id
from gateway.idempotency import IdempotencyKeys, idempotent
from gateway.kafka.clients import KafkaClients
from gateway.middleware import RequestIdMiddleware
from gateway.openapi import build_openapi
from gateway.responses import JSONResponse, problem_response
from gateway.routes import consume, consumers, processors, produce, streams
from gateway.settings import Settings

log = logging.getLogger(__name__)


def problem(request: Request, exc: ge.GatewayError) -> Response:
    return problem_response(exc, request.url.path, request_id(request))


async def on_gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ge.GatewayError)  # noqa: S101 - registered for this type only
    return problem(request, exc)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for this type only
    error: ge.GatewayError
    if exc.status_code == 404:
        error = ge.NotFound(f"no route for {request.method} {request.url.path}")
    elif exc.status_code == 405:
        error = ge.MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
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


def routes() -> list[Route]:
    api = "/api/v1"
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route(f"{api}/streams", idempotent(streams.create_stream), methods=["POST"]),
        Route(f"{api}/streams", streams.list_streams, methods=["GET"]),
        Route(f"{api}/streams/{{stream}}", streams.get_stream, methods=["GET"]),
        Route(f"{api}/streams/{{stream}}", streams.patch_stream, methods=["PATCH"]),
        Route(f"{api}/streams/{{stream}}", streams.delete_stream, methods=["DELETE"]),
        Route(f"{api}/streams/{{stream}}/events", idempotent(produce.publish_event), methods=["POST"]),
        Route(f"{api}/streams/{{stream}}/events/batch", idempotent(produce.publish_batch), methods=["POST"]),
        Route(f"{api}/streams/{{stream}}/events", consume.poll, methods=["GET"]),
        Route(f"{api}/streams/{{stream}}/events/{{event_id}}", consume.get_event, methods=["GET"]),
        Route(f"{api}/streams/{{stream}}/partitions/{{partition:int}}/events", consume.read_partition, methods=["GET"]),
        Route(f"{api}/streams/{{stream}}/offsets", consume.offsets_for_time, methods=["GET"]),
        Route(f"{api}/consumers", consumers.list_groups, methods=["GET"]),
        Route(f"{api}/consumers/{{group}}", consumers.describe_group, methods=["GET"]),
        Route(f"{api}/consumers/{{group}}", consumers.delete_group, methods=["DELETE"]),
        Route(f"{api}/consumers/{{group}}/commit", idempotent(consumers.commit), methods=["POST"]),
        Route(f"{api}/consumers/{{group}}/reset", consumers.reset, methods=["POST"]),
        Route(f"{api}/consumers/{{group}}/sessions", consumers.close_sessions, methods=["DELETE"]),
        Route(f"{api}/processors", idempotent(processors.create_processor), methods=["POST"]),
        Route(f"{api}/processors", processors.list_processors, methods=["GET"]),
        Route(f"{api}/processors/{{processor_id}}", processors.get_processor, methods=["GET"]),
        Route(f"{api}/processors/{{processor_id}}", processors.update_processor, methods=["PUT"]),
        Route(f"{api}/processors/{{processor_id}}", processors.delete_processor, methods=["DELETE"]),
        Route(f"{api}/processors/{{processor_id}}/pause", processors.pause_processor, methods=["POST"]),
        Route(f"{api}/processors/{{processor_id}}/resume", processors.resume_processor, methods=["POST"]),
        Route(f"{api}/processors/{{processor_id}}/metrics", processors.processor_metrics, methods=["GET"]),
    ]


def authenticator(settings: Settings) -> Authenticator | None:
    if settings.auth == "off":
        return None
    assert settings.admin_token is not None  # noqa: S101 - Settings refuses auth=required without one
    return RootTokenAuthenticator(settings.admin_token.get_secret_value())


def create_app(settings: Settings, kafka: KafkaClients | None = None) -> Starlette:
    """Build the gateway. Pass `kafka` to share or inspect clients; by default the app owns its own."""
    clients = kafka or KafkaClients(settings)
    owned = kafka is None

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if owned:
            await clients.start()
        try:
            yield
        finally:
            if owned:
                await clients.close()

    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(AuthenticationMiddleware, authenticator=authenticator(settings)),
        ],
        exception_handlers={
            ge.GatewayError: on_gateway_error,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.gateway = GatewayContext(settings=settings, kafka=clients)
    app.state.idempotency = IdempotencyKeys(settings, clients.idempotency)
    app.state.openapi = build_openapi(version("kafkagate"), idempotency_ttl_s=settings.idempotency_ttl_s)
    return app

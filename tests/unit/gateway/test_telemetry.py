"""Request telemetry: route templates as labels (never raw paths), refusals before routing included."""

from __future__ import annotations

import logging

import httpx
import pytest
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.metrics import UNMATCHED, GatewayMetrics
from gateway.middleware import RequestIdMiddleware
from gateway.telemetry import TelemetryMiddleware


async def thing(request: Request) -> Response:
    logging.getLogger("tests.handler").info("serving %s", request.path_params["name"])
    return PlainTextResponse("ok", status_code=201)


class Gatekeeper:
    """Refuses `/things/locked...` before the router sees it, as authentication and quotas do."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith("/things/locked"):
            await PlainTextResponse("no", status_code=401)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def app_with(metrics: GatewayMetrics) -> Starlette:
    routes = [Route("/things/{name}", thing, methods=["POST"]), Route("/things/{name}/parts/{n:int}", thing)]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(TelemetryMiddleware, metrics=metrics, routes=routes),
            Middleware(Gatekeeper),
        ],
    )


def requests_by_labels(metrics: GatewayMetrics) -> dict[tuple[str, str, str], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.labels["route"], s.labels["method"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "kafkagate_http_requests_total"
    }


async def test_requests_are_labelled_by_route_template() -> None:
    metrics = GatewayMetrics()
    transport = httpx.ASGITransport(app=app_with(metrics))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for name in ("a", "b", "c"):
            assert (await client.post(f"/things/{name}")).status_code == 201
        assert (await client.get("/things/a/parts/7")).status_code == 201
        assert (await client.post("/things/locked-1")).status_code == 401
        assert (await client.get("/things/a")).status_code == 405
        assert (await client.get("/nowhere/at/all")).status_code == 404
    assert requests_by_labels(metrics) == {
        ("/things/{name}", "POST", "201"): 3,
        ("/things/{name}/parts/{n:int}", "GET", "201"): 1,
        ("/things/{name}", "POST", "401"): 1,
        ("/things/{name}", "GET", "405"): 1,
        (UNMATCHED, "GET", "404"): 1,
    }


async def test_each_request_logs_one_access_line_with_its_request_id(caplog: pytest.LogCaptureFixture) -> None:
    metrics = GatewayMetrics()
    transport = httpx.ASGITransport(app=app_with(metrics))
    caplog.set_level(logging.INFO)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await client.post("/things/x", headers={"x-request-id": "req-one"})
    [line] = [r for r in caplog.records if r.name == "kafkagate.access"]
    assert (line.method, line.route, line.status, line.bytes) == ("POST", "/things/{name}", 201, 2)  # type: ignore[attr-defined]
    assert line.duration_ms >= 0  # type: ignore[attr-defined]

"""The authentication middleware over an in-memory authenticator: bearer parsing, public routes, tenants."""

from __future__ import annotations

import dataclasses

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.authentication import AuthenticationMiddleware, Authenticator
from gateway.authorization import guarded
from gateway.context import request_id
from gateway.errors import GatewayError
from gateway.middleware import RequestIdMiddleware
from gateway.principal import Principal, principal
from gateway.responses import problem_response

ALICE = Principal(key_id="key_alice", scopes=frozenset({"produce"}), streams=("orders.*",))
ROOT = Principal(key_id="root", scopes=frozenset({"produce", "consume", "processors", "admin"}), root=True)


class InMemory:
    async def authenticate(self, token: str | None) -> Principal | None:
        return {"alice": ALICE, "root": ROOT}.get(token or "")

    async def act_for(self, who: Principal, tenant: str) -> Principal | None:
        if tenant == "acme" and who.root:
            return dataclasses.replace(who, tenant_id="t-acme", tenant_slug="acme", root=False)
        return None


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def on_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return problem_response(exc, request.url.path, request_id(request))


async def whoami(request: Request) -> Response:
    who = principal(request)
    return JSONResponse({"key": who.key_id, "tenant": who.tenant_slug})


def client(authenticator: Authenticator | None) -> httpx.AsyncClient:
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/whoami", whoami),
            Route("/streams/{stream}/events", guarded("produce", whoami), methods=["POST"]),
            Route("/streams", guarded("admin", whoami)),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(AuthenticationMiddleware, authenticator=authenticator),
        ],
        exception_handlers={GatewayError: on_error},
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_a_bearer_token_becomes_the_principal() -> None:
    async with client(InMemory()) as http:
        response = await http.get("/whoami", headers={"authorization": "bearer alice"})
        assert response.json() == {"key": "key_alice", "tenant": None}


async def test_anything_else_is_one_401_with_a_challenge() -> None:
    async with client(InMemory()) as http:
        for headers in ({}, {"authorization": "Basic alice"}, {"authorization": "Bearer"}, {"authorization": "x"}):
            response = await http.get("/whoami", headers={**headers, "x-request-id": "r1"})
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == 'Bearer realm="kafkagate"'
            assert response.headers["x-request-id"] == "r1"
            body = response.json()
            assert (body["code"], body["request_id"], body["instance"]) == (1018, "r1", "/whoami")


async def test_public_routes_skip_authentication() -> None:
    async with client(InMemory()) as http:
        assert (await http.get("/healthz")).status_code == 200


async def test_with_auth_off_everyone_is_the_open_principal() -> None:
    async with client(None) as http:
        assert (await http.get("/whoami")).json() == {"key": "anonymous", "tenant": None}


async def test_root_acts_for_a_tenant_and_others_get_404() -> None:
    async with client(InMemory()) as http:
        acting = await http.get("/whoami", headers={"authorization": "Bearer root", "x-tenant-id": "acme"})
        assert acting.json() == {"key": "root", "tenant": "acme"}
        refused = await http.get("/whoami", headers={"authorization": "Bearer alice", "x-tenant-id": "acme"})
        assert refused.status_code == 404
        assert refused.json()["code"] == 1029


async def test_scopes_and_stream_patterns_are_403() -> None:
    async with client(InMemory()) as http:
        alice = {"authorization": "Bearer alice"}
        assert (await http.post("/streams/orders.eu/events", headers=alice)).status_code == 200
        outside = await http.post("/streams/payments/events", headers=alice)
        assert outside.status_code == 403
        assert "payments" in outside.json()["detail"]
        no_scope = await http.get("/streams", headers=alice)
        assert no_scope.status_code == 403
        assert no_scope.json()["code"] == 1028

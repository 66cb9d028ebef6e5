"""Tenants: created by the root credential only; a tenant's keys see their own tenant and nothing else."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway.authorization import require_root
from gateway.bodies import parse_model, read_body
from gateway.context import context
from gateway.principal import principal
from gateway.responses import JSONResponse
from schemas.tenants import TenantCreate

_BASE = "/api/v1/tenants"


async def create_tenant(request: Request) -> Response:
    ctx = context(request)
    require_root(principal(request))
    spec = parse_model(TenantCreate, await read_body(request, ctx.settings.max_body_bytes))
    ctx.kafka.require_ready()
    tenant = await ctx.tenants.create(spec)
    return JSONResponse(tenant.model_dump(mode="json"), status_code=201, headers={"location": f"{_BASE}/{tenant.id}"})


async def list_tenants(request: Request) -> Response:
    ctx = context(request)
    who = principal(request)
    ctx.kafka.require_ready()
    tenants = await ctx.tenants.tenants()
    if not who.root:
        tenants = [t for t in tenants if t.id == who.tenant_id]
    return JSONResponse({"tenants": [t.model_dump(mode="json") for t in tenants]})


async def get_tenant(request: Request) -> Response:
    ctx = context(request)
    who = principal(request)
    wanted = request.path_params["tenant"]
    ctx.kafka.require_ready()
    tenant = await ctx.tenants.find_fresh(wanted)
    if tenant is None or (not who.root and tenant.id != who.tenant_id):
        raise ge.TenantNotFound(f"tenant {wanted!r} does not exist")
    return JSONResponse(tenant.model_dump(mode="json"))

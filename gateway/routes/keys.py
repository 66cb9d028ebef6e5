"""API key management (`admin` scope): create, list, describe and revoke keys.

A key belongs to the tenant of the principal that creates it (the root credential may name any tenant), and can
hold no more than its creator: scopes a subset of the creator's, stream patterns among the creator's.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway.bodies import parse_model, read_body
from gateway.context import context
from gateway.principal import Principal, principal
from gateway.responses import JSONResponse
from gateway.timefmt import now_iso
from schemas.keys import KeyCreate, KeyRecord

_BASE = "/api/v1/keys"


def _check_within(who: Principal, spec: KeyCreate) -> None:
    if who.root:
        return
    extra = sorted(set(spec.scopes) - who.scopes)
    if extra:
        raise ge.Forbidden(f"a key cannot grant scopes its creator lacks: {', '.join(extra)}")
    if who.streams is not None and (spec.streams is None or not set(spec.streams) <= set(who.streams)):
        raise ge.Forbidden("a key limited to stream patterns can only create keys limited to the same patterns")


def _visible(who: Principal, key: KeyRecord) -> bool:
    return (who.root and who.tenant_id is None) or key.tenant == who.tenant_id


async def create_key(request: Request) -> Response:
    ctx = context(request)
    who = principal(request)
    spec = parse_model(KeyCreate, await read_body(request, ctx.settings.max_body_bytes))
    _check_within(who, spec)
    tenant_id = who.tenant_id
    if spec.tenant is not None:
        found = await ctx.tenants.find_fresh(spec.tenant)
        # Outside the root credential, only the caller's own tenant exists.
        if found is None or (not who.root and found.id != who.tenant_id):
            raise ge.TenantNotFound(f"tenant {spec.tenant!r} does not exist")
        tenant_id = found.id
    ctx.kafka.require_ready()
    created = await ctx.keys.create(spec, tenant_id)
    document = {**created.key.document(), "token": created.token}
    return JSONResponse(document, status_code=201, headers={"location": f"{_BASE}/{created.key.keyId}"})


async def list_keys(request: Request) -> Response:
    ctx = context(request)
    who = principal(request)
    ctx.kafka.require_ready()
    every = who.root and who.tenant_id is None
    keys = await ctx.keys.keys(who.tenant_id, every_tenant=every)
    return JSONResponse({"keys": [k.document() for k in keys]})


async def _visible_key(request: Request) -> KeyRecord:
    ctx = context(request)
    key_id = request.path_params["key_id"]
    ctx.kafka.require_ready()
    key = await ctx.keys.find_fresh(key_id)
    if key is None or not _visible(principal(request), key):
        raise ge.KeyNotFound(f"API key {key_id!r} does not exist")
    return key


async def get_key(request: Request) -> Response:
    return JSONResponse((await _visible_key(request)).document())


async def revoke_key(request: Request) -> Response:
    key = await _visible_key(request)
    await context(request).keys.revoke(key.keyId)
    return JSONResponse({"status": "revoked", "keyId": key.keyId, "revokedAt": now_iso()})

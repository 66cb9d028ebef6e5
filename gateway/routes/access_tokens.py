"""Seed 002's token exchange: `POST /auth/token {"api_key": ...}` returns a short-lived bearer JWT for that key.

The JWT carries the key's id and is checked against the key store on every request, so it dies with its key;
it never outlives the key's own expiry.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway import tokens
from gateway.authentication import UNAUTHORIZED_DETAIL
from gateway.bodies import parse_model, read_body
from gateway.context import context
from gateway.responses import JSONResponse
from schemas.keys import TokenRequest


async def exchange(request: Request) -> Response:
    ctx = context(request)
    body = parse_model(TokenRequest, await read_body(request, ctx.settings.max_body_bytes))
    key_id = tokens.key_id_of(body.api_key)
    key = None if key_id is None else ctx.keys.find(key_id) or await ctx.keys.find_fresh(key_id)
    if key is None or not tokens.matches(body.api_key, key.tokenHash):
        raise ge.Unauthorized(UNAUTHORIZED_DETAIL)
    now_s = int(time.time())
    ttl_s = ctx.settings.jwt_ttl_s
    if key.expiresAtMs is not None:
        ttl_s = max(1, min(ttl_s, key.expiresAtMs // 1000 - now_s))
    kid, secret = await ctx.keys.signing_secret()
    token = tokens.issue_access_token(key.keyId, kid, secret, now_s, ttl_s)
    return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": ttl_s})

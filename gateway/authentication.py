"""Authentication: every request except the public ones carries `Authorization: Bearer <token>`.

The middleware turns the token into a `Principal` (see `gateway.principal`) and stores it in the request
scope; an `Authenticator` does the lookup. Every failure (missing, malformed, unknown, expired, revoked) is the
same 401 with `WWW-Authenticate: Bearer`, so a caller learns nothing about which tokens exist.
"""

from __future__ import annotations

import hmac
from typing import Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import Unauthorized
from gateway.principal import ALL_SCOPES, OPEN, Principal
from gateway.responses import problem_response

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json", "/auth/token"})
PUBLIC_PREFIXES = ("/docs",)
ROOT = Principal(key_id="root", scopes=ALL_SCOPES, root=True)
_AUTHORIZATION = b"authorization"
UNAUTHORIZED_DETAIL = "a valid bearer token is required"


class Authenticator(Protocol):
    async def authenticate(self, token: str) -> Principal | None:
        """The principal `token` stands for, or None when it stands for nothing (any reason)."""


class RootTokenAuthenticator:
    """Knows the root credential only; the key store's authenticator wraps it."""

    def __init__(self, admin_token: str):
        self._root = admin_token.encode()

    async def authenticate(self, token: str) -> Principal | None:
        return ROOT if hmac.compare_digest(token.encode(), self._root) else None


def bearer_token(scope: Scope) -> str | None:
    name: bytes
    value: bytes
    for name, value in scope["headers"]:
        if name == _AUTHORIZATION:
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token or " " in token:
                return None
            return token
    return None


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class AuthenticationMiddleware:
    """Pure ASGI. With `authenticator=None` (KAFKAGATE_AUTH=off) every request acts as the open principal."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator | None):
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if self.authenticator is None:
            state["principal"] = OPEN
        elif not is_public(scope["path"]):
            token = bearer_token(scope)
            found = await self.authenticator.authenticate(token) if token is not None else None
            if found is None:
                response = problem_response(Unauthorized(UNAUTHORIZED_DETAIL), scope["path"], state["request_id"])
                await response(scope, receive, send)
                return
            state["principal"] = found
        await self.app(scope, receive, send)

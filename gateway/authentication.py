"""Authentication: every request except the public ones carries `Authorization: Bearer <token>`.

The middleware turns the token into a `Principal` (see `gateway.principal`) and stores it in the request
scope; an `Authenticator` does the lookup. Every failure (missing, malformed, unknown, expired, revoked) is the
same 401 with `WWW-Authenticate: Bearer`, so a caller learns nothing about which tokens exist.
"""

from __future__ import annotations

import dataclasses
import hmac
import time
from typing import Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway import tokens
from gateway.envelopes import error_response
from gateway.errors import GatewayError, TenantNotFound, Unauthorized
from gateway.keys import KeyStore, principal_for
from gateway.principal import ALL_SCOPES, OPEN, Principal
from gateway.tenants import TenantStore
from schemas.keys import KeyRecord

# /metrics checks KAFKAGATE_METRICS_TOKEN itself when one is set: scrapers hold no API keys, and a scrape must not
# spend a key's quota.
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json", "/auth/token", "/metrics"})
# The browser pages and their files (gateway.pages): they hold no data, and call the API with the user's token.
PUBLIC_PREFIXES = ("/docs", "/console")
ROOT = Principal(key_id="root", scopes=ALL_SCOPES, root=True)
_AUTHORIZATION = b"authorization"
_TENANT = b"x-tenant-id"
UNAUTHORIZED_DETAIL = "a valid bearer token is required"


class Authenticator(Protocol):
    async def authenticate(self, token: str | None) -> Principal | None:
        """The principal `token` (None: no bearer token sent) stands for, or None when it stands for nothing."""

    async def act_for(self, principal: Principal, tenant: str) -> Principal | None:
        """`principal` acting for `tenant` (id or slug, from `X-Tenant-ID`), or None when it may not."""


class RootTokenAuthenticator:
    """Knows the root credential only; the key store's authenticator wraps it."""

    def __init__(self, admin_token: str):
        self._root = admin_token.encode()

    async def authenticate(self, token: str | None) -> Principal | None:
        return ROOT if token is not None and hmac.compare_digest(token.encode(), self._root) else None

    async def act_for(self, principal: Principal, tenant: str) -> Principal | None:
        return None


async def acting_for(tenants: TenantStore, principal: Principal, tenant: str) -> Principal | None:
    """The root credential may act for any tenant; a tenant's key only for its own."""
    found = await tenants.find_fresh(tenant)
    if found is None:
        return None
    if principal.root:
        return dataclasses.replace(principal, tenant_id=found.id, tenant_slug=found.slug, root=False)
    return principal if found.id == principal.tenant_id else None


class OpenAuthenticator:
    """KAFKAGATE_AUTH=off: every request is the open principal, which can still act for a tenant."""

    def __init__(self, tenants: TenantStore):
        self.tenants = tenants

    async def authenticate(self, token: str | None) -> Principal | None:
        return OPEN

    async def act_for(self, principal: Principal, tenant: str) -> Principal | None:
        return await acting_for(self.tenants, principal, tenant)


class KeyAuthenticator(RootTokenAuthenticator):
    """The root credential, API key tokens and access tokens (JWTs), checked against the key store.

    Lookups read this gateway's copy of the key store; only a key id it does not know yet costs a catch-up
    with Kafka (shared by concurrent requests), so a key created on another gateway works at once.
    """

    def __init__(
        self,
        admin_token: str,
        keys: KeyStore,
        tenants: TenantStore,
    ):
        super().__init__(admin_token)
        self.keys = keys
        self.tenants = tenants
        self._verified = tokens.VerifiedTokens()

    async def authenticate(self, token: str | None) -> Principal | None:
        if token is None:
            return None
        root = await super().authenticate(token)
        if root is not None:
            return root
        key = await self._key(token)
        if key is None:
            return None
        slug = None
        if key.tenant is not None:
            tenant = await self.tenants.find_fresh(key.tenant)
            if tenant is None:
                return None
            slug = tenant.slug
        return principal_for(key, slug)

    async def _key(self, token: str) -> KeyRecord | None:
        """The live key an API key token or an access token stands for."""
        key_id = tokens.key_id_of(token)
        if key_id is not None:
            key = self.keys.find(key_id) or await self.keys.find_fresh(key_id)
            return key if key is not None and tokens.matches(token, key.tokenHash) else None
        if not tokens.looks_like_jwt(token):
            return None
        known = self.keys.signing_secrets()
        key_id = self._verified.key_id(token, known, time.time())
        if key_id is None:
            # Perhaps signed with a secret another gateway created since this one last looked.
            fresh = await self.keys.verifying_secrets(token)
            key_id = None if fresh is known else self._verified.key_id(token, fresh, time.time())
        return None if key_id is None else self.keys.find(key_id) or await self.keys.find_fresh(key_id)

    async def act_for(self, principal: Principal, tenant: str) -> Principal | None:
        return await acting_for(self.tenants, principal, tenant)


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


def header(scope: Scope, wanted: bytes) -> str | None:
    name: bytes
    value: bytes
    for name, value in scope["headers"]:
        if name == wanted:
            return value.decode("latin-1").strip()
    return None


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class AuthenticationMiddleware:
    """Pure ASGI. With `authenticator=None` every request acts as the open principal, with no tenant lookups."""

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
            try:
                state["principal"] = await self._principal(self.authenticator, scope)
            except GatewayError as exc:
                await error_response(exc, scope["path"], state["request_id"])(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _principal(authenticator: Authenticator, scope: Scope) -> Principal:
        token = bearer_token(scope)
        found = await authenticator.authenticate(token)
        if found is None:
            raise Unauthorized(UNAUTHORIZED_DETAIL)
        tenant = header(scope, _TENANT)
        if tenant:
            acting = await authenticator.act_for(found, tenant)
            if acting is None:
                # The same answer as for a tenant that does not exist: tenants cannot probe for each other.
                raise TenantNotFound(f"tenant {tenant!r} does not exist")
            found = acting
        return found

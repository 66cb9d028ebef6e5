"""Helpers for the trust-boundary tests: tenants and keys made through the API, and clients that act as them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


def as_token(client: httpx.AsyncClient, token: str | None, **headers: str) -> httpx.AsyncClient:
    """A client for the same in-process gateway as `client`, sending `token` (or no Authorization at all)."""
    sent = {**headers, **({"authorization": f"Bearer {token}"} if token is not None else {})}
    return httpx.AsyncClient(transport=client._transport, base_url=client.base_url, timeout=60, headers=sent)


async def new_tenant(root: httpx.AsyncClient, slug: str | None = None) -> dict[str, Any]:
    slug = slug or f"t{uuid.uuid4().hex[:10]}"
    response = await root.post("/api/v1/tenants", json={"slug": slug, "name": f"Tenant {slug}"})
    assert response.status_code == 201, response.text
    tenant: dict[str, Any] = response.json()
    return tenant


async def new_key(root: httpx.AsyncClient, **spec: Any) -> dict[str, Any]:
    """A key made by `root` (any client with the admin scope); `spec` defaults to every scope."""
    body = {"name": f"key-{uuid.uuid4().hex[:6]}", "scopes": ["produce", "consume", "processors", "admin"], **spec}
    response = await root.post("/api/v1/keys", json=body)
    assert response.status_code == 201, response.text
    key: dict[str, Any] = response.json()
    return key

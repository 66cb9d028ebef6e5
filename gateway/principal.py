"""Who is calling: the principal a request acts as, set by the authentication middleware on every request.

A principal is a key (or the root credential) with its scopes, its tenant and the stream patterns it may touch.
Route handlers read it with `principal(request)`; with `KAFKAGATE_AUTH=off` every request acts as `OPEN`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request

Scope = Literal["produce", "consume", "processors", "admin"]
ALL_SCOPES: frozenset[Scope] = frozenset({"produce", "consume", "processors", "admin"})


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A key's own quota; None in a field means the gateway's default from settings."""

    requests_per_s: float | None = None
    bytes_per_s: float | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """`key_id` names the credential (`root` for KAFKAGATE_ADMIN_TOKEN, `anonymous` with auth off).

    `tenant_id` is the tenant the request acts for (None: the untenanted namespace), `tenant_slug` its slug.
    `streams` are glob patterns limiting the streams the key may touch (None: any). `root` sees every tenant and
    internal topics.
    """

    key_id: str
    scopes: frozenset[Scope]
    tenant_id: str | None = None
    tenant_slug: str | None = None
    streams: tuple[str, ...] | None = None
    root: bool = False
    rate_limit: RateLimit | None = None


OPEN = Principal(key_id="anonymous", scopes=ALL_SCOPES, root=True)


def principal(request: Request) -> Principal:
    """The principal of this request (the authentication middleware always sets one)."""
    found: Principal = request.scope["state"]["principal"]
    return found

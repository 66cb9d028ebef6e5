"""Who may do what: `kafkagate keys create|list|describe|revoke`, `kafkagate tenants create|list|describe` and
`kafkagate auth token`."""

from __future__ import annotations

from typing import Any

import click

from kafkagate.cli import output
from kafkagate.cli.session import connection_options, session

_SCOPES = ("produce", "consume", "processors", "admin")


@click.group()
def keys() -> None:
    """API keys: each has scopes, optional stream patterns, an expiry and a rate limit."""


@keys.command("create")
@click.argument("name")
@click.option("-s", "--scope", "scopes", multiple=True, required=True, type=click.Choice(_SCOPES), help="repeatable")
@click.option("--tenant", default=None, help="tenant id or slug (root token only; default: the caller's tenant)")
@click.option("--stream", "streams", multiple=True, help="stream glob pattern the key is limited to (repeatable)")
@click.option("--expires-at", default=None, help="epoch ms or ISO 8601")
@click.option("--requests-per-second", type=float, default=None)
@click.option("--bytes-per-second", type=float, default=None)
@connection_options
def create_key(
    *,
    name: str,
    scopes: tuple[str, ...],
    tenant: str | None,
    streams: tuple[str, ...],
    expires_at: str | None,
    requests_per_second: float | None,
    bytes_per_second: float | None,
) -> None:
    """Create a key; its token is printed once and never again."""
    expiry: int | str | None = int(expires_at) if expires_at is not None and expires_at.isdigit() else expires_at
    created = (
        session()
        .client()
        .keys.create(
            name,
            scopes,
            tenant=tenant,
            streams=streams or None,
            expires_at=expiry,
            requests_per_second=requests_per_second,
            bytes_per_second=bytes_per_second,
        )
    )
    if session().json:
        output.print_json(created)
        return
    output.fields(
        created.key_id, [("name", created.name), ("scopes", ",".join(created.scopes)), ("token", created.token)]
    )
    click.echo("the token is shown once: store it now", err=True)


@keys.command("list")
@connection_options
def list_keys() -> None:
    listed = session().client().keys.list()
    if session().json:
        output.print_json(listed)
        return
    output.table(
        None,
        ["KEY", "NAME", "TENANT", "SCOPES", "STREAMS", "EXPIRES"],
        (
            (k.key_id, k.name, k.tenant, ",".join(k.scopes), ",".join(k.streams or ["*"]), k.expires_at)
            for k in listed.keys
        ),
    )


@keys.command("describe")
@click.argument("key_id")
@connection_options
def describe_key(key_id: str) -> None:
    found = session().client().keys.get(key_id)
    _show(found, found.key_id)


@keys.command("revoke")
@click.argument("key_id")
@connection_options
def revoke(key_id: str) -> None:
    """Revoke a key on every gateway."""
    done = session().client().keys.revoke(key_id)
    if session().json:
        output.print_json(done)
        return
    output.console().print(f"revoked {done.key_id}")


@click.group()
def tenants() -> None:
    """Tenants (created with the root token): each sees only its own streams, groups, processors and keys."""


@tenants.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="display name")
@click.option("-m", "--metadata", "pairs", multiple=True, help="NAME=VALUE (repeatable)")
@connection_options
def create_tenant(slug: str, name: str, pairs: tuple[str, ...]) -> None:
    metadata = dict(pair.partition("=")[::2] for pair in pairs)
    created = session().client().tenants.create(slug, name, metadata=metadata)
    _show(created, created.slug)


@tenants.command("list")
@connection_options
def list_tenants() -> None:
    listed = session().client().tenants.list()
    if session().json:
        output.print_json(listed)
        return
    output.table(
        None,
        ["ID", "SLUG", "NAME", "STATUS", "CREATED"],
        ((t.id, t.slug, t.name, t.status, t.created_at) for t in listed.tenants),
    )


@tenants.command("describe")
@click.argument("tenant")
@connection_options
def describe_tenant(tenant: str) -> None:
    """TENANT by id or slug."""
    found = session().client().tenants.get(tenant)
    _show(found, found.slug)


@click.group()
def auth() -> None:
    """Access tokens."""


@auth.command("token")
@click.option("--api-key", prompt=True, hide_input=True, help="the key's token (prompted for when absent)")
@connection_options
def token(api_key: str) -> None:
    """Exchange an API key for a short-lived access token (JWT)."""
    issued = session().client().access_token(api_key)
    if session().json:
        output.print_json(issued)
        return
    click.echo(issued.access_token)


def _show(model: Any, title: str) -> None:
    if session().json:
        output.print_json(model)
        return
    output.fields(title, list(output.document(model).items()))

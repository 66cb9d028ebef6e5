"""`kafkagate streams list|create|describe|delete` and `kafkagate streams schema get|set|delete`."""

from __future__ import annotations

from typing import Any

import click
import orjson

from kafkagate.cli import output
from kafkagate.cli.session import connection_options, session


def _config(pairs: tuple[str, ...]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--config")
        config[name] = int(raw) if raw.lstrip("-").isdigit() else raw
    return config


@click.group()
def streams() -> None:
    """Create, list, describe and delete streams."""


@streams.command("list")
@click.option("--page-size", type=int, default=None, help="streams per request (the gateway's default if unset)")
@connection_options
def list_streams(page_size: int | None) -> None:
    """Every stream the token can see."""
    entries = list(session().client().streams.iterate(page_size=page_size))
    if session().json:
        output.print_json({"streams": [output.document(e) for e in entries]})
        return
    output.table(None, ["NAME", "STREAM ID"], ((e.name, e.stream_id) for e in entries))


@streams.command("create")
@click.argument("name")
@click.option("-p", "--partitions", type=int, default=None, help="partition count (gateway default 3)")
@click.option("-r", "--replication-factor", type=int, default=None, help="replicas per partition (default 1)")
@click.option("-c", "--config", "configs", multiple=True, help="NAME=VALUE, e.g. retentionMs=86400000 (repeatable)")
@connection_options
def create(name: str, partitions: int | None, replication_factor: int | None, configs: tuple[str, ...]) -> None:
    """Create a stream."""
    stream = (
        session()
        .client()
        .streams.create(name, partitions=partitions, replication_factor=replication_factor, config=_config(configs))
    )
    if session().json:
        output.print_json(stream)
        return
    output.console().print(f"created stream [bold]{stream.name}[/] ({stream.partitions} partitions)")


@streams.command("describe")
@click.argument("name")
@connection_options
def describe(name: str) -> None:
    """Partitions, offsets, sizes and config of a stream."""
    stream = session().client().streams.get(name)
    if session().json:
        output.print_json(stream)
        return
    output.fields(
        stream.name,
        [
            ("stream id", stream.stream_id),
            ("partitions", stream.partitions),
            ("replication factor", stream.replication_factor),
            ("messages", stream.total_messages),
            ("size bytes", stream.total_size),
            *stream.config.items(),
        ],
    )
    output.table(
        None,
        ["PARTITION", "LEADER", "REPLICAS", "ISR", "START", "END", "BYTES"],
        (
            (
                p.partition,
                p.leader,
                ",".join(p.replicas),
                ",".join(p.in_sync_replicas),
                p.start_offset,
                p.end_offset,
                p.size_bytes,
            )
            for p in stream.partition_details
        ),
    )


@streams.command("delete")
@click.argument("name")
@connection_options
def delete(name: str) -> None:
    """Delete a stream and its events."""
    deleted = session().client().streams.delete(name)
    if session().json:
        output.print_json(deleted)
        return
    output.console().print(f"deleted stream [bold]{deleted.stream_name}[/]")


@streams.group("schema")
def schema() -> None:
    """A stream's JSON Schema (Draft 2020-12): events that break it are rejected or dead-lettered."""


@schema.command("get")
@click.argument("name")
@connection_options
def schema_get(name: str) -> None:
    output.print_json(session().client().streams.get_schema(name))


@schema.command("set")
@click.argument("name")
@click.argument("schema_file", type=click.File("rb"))
@click.option("--on-invalid", type=click.Choice(["reject", "deadLetter"]), default=None)
@connection_options
def schema_set(name: str, schema_file: Any, on_invalid: str | None) -> None:
    """Set the schema from SCHEMA_FILE (a JSON document; `-` reads standard input)."""
    try:
        document = orjson.loads(schema_file.read())
    except orjson.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="SCHEMA_FILE") from None
    output.print_json(session().client().streams.set_schema(name, document, on_invalid=on_invalid))


@schema.command("delete")
@click.argument("name")
@connection_options
def schema_delete(name: str) -> None:
    output.print_json(session().client().streams.delete_schema(name))

"""`kafkagate groups list|describe|reset|delete`."""

from __future__ import annotations

import click

from kafkagate.cli import output
from kafkagate.cli.session import connection_options, session


@click.group()
def groups() -> None:
    """Consumer groups: members, committed offsets and lag; reset an idle group."""


@groups.command("list")
@connection_options
def list_groups() -> None:
    listed = session().client().groups.list()
    if session().json:
        output.print_json(listed)
        return
    output.table(
        None, ["GROUP", "STATE", "MEMBERS"], ((g.group_id, g.state, g.members) for g in listed.consumer_groups)
    )


@groups.command("describe")
@click.argument("group")
@connection_options
def describe(group: str) -> None:
    """Members, and per partition the committed offset, the end offset and the lag."""
    found = session().client().groups.get(group)
    if session().json:
        output.print_json(found)
        return
    output.fields(found.group_id, [("state", found.state), ("members", len(found.members)), ("lag", found.lag)])
    output.table(
        "offsets",
        ["STREAM", "PARTITION", "COMMITTED", "END", "LAG"],
        ((o.stream, o.partition, o.committed_offset, o.end_offset, o.lag) for o in found.offsets),
    )
    if found.members:
        output.table(
            "members",
            ["MEMBER", "HOST", "ASSIGNED"],
            (
                (m.member_id, m.host, ", ".join(f"{a.stream}:{a.partition}" for a in m.assignments))
                for m in found.members
            ),
        )


@groups.command("reset")
@click.argument("group")
@click.option("-s", "--stream", required=True, help="the stream whose offsets are reset")
@click.option("--to", "to", type=click.Choice(["earliest", "latest", "timestamp", "offset"]), required=True)
@click.option("--timestamp", default=None, help="with --to timestamp: epoch ms or ISO 8601")
@click.option("--offset", type=click.IntRange(0), default=None, help="with --to offset: the offset for every partition")
@connection_options
def reset(group: str, stream: str, to: str, timestamp: str | None, offset: int | None) -> None:
    """Move an idle GROUP's committed offsets on STREAM (exit 5 while it has members)."""
    if to == "timestamp" and timestamp is None:
        raise click.UsageError("--to timestamp needs --timestamp")
    if to == "offset" and offset is None:
        raise click.UsageError("--to offset needs --offset")
    stamp: int | str | None = int(timestamp) if timestamp is not None and timestamp.isdigit() else timestamp
    done = session().client().groups.reset(group, stream, to, timestamp=stamp, offset=offset)
    if session().json:
        output.print_json(done)
        return
    output.table(
        f"reset {done.group_id}",
        ["STREAM", "PARTITION", "OFFSET"],
        ((o.stream, o.partition, o.offset) for o in done.offsets),
    )


@groups.command("delete")
@click.argument("group")
@connection_options
def delete(group: str) -> None:
    """Delete an idle group and its committed offsets."""
    done = session().client().groups.delete(group)
    if session().json:
        output.print_json(done)
        return
    output.console().print(f"deleted group [bold]{done.group_id}[/]")

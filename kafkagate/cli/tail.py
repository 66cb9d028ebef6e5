"""`kafkagate tail STREAM`: print events as they arrive, as a consumer-group member.

With `--group`, it is an ordinary at-least-once consumer of that group: it starts at the group's commits (or
`--from`, which moves a member this gateway already holds for the group) and commits what it printed. Without,
it uses a group of its own, `kafkagate-tail-<random>`, starting at `--from` (latest by default), and deletes that
group when it stops, so tails leave nothing behind.
"""

from __future__ import annotations

import secrets
from typing import Any

import click
import orjson

from kafkagate.cli import exit_codes, output
from kafkagate.cli.session import connection_options, session
from kafkagate.client import Client, KafkagateError
from kafkagate.client.models import Event


def _start(raw: str) -> int | str:
    if raw in {"earliest", "latest"}:
        return raw
    if raw.isdigit():
        return int(raw)
    raise click.BadParameter("must be earliest, latest or an offset", param_hint="--from")


@click.command()
@click.argument("stream")
@click.option("-g", "--group", default=None, help="consume as this group (commits); default: a throwaway group")
@click.option(
    "--from",
    "start",
    default=None,
    help="earliest, latest or an offset; without it a throwaway group starts at latest and --group at its commits",
)
@click.option("-n", "--count", type=click.IntRange(1), default=None, help="stop after this many events")
@click.option("--idle-exit", is_flag=True, help="stop at the first poll that finds nothing new")
@connection_options
def tail(stream: str, group: str | None, start: str | None, count: int | None, idle_exit: bool) -> int:
    """Print STREAM's events as they arrive, until Ctrl-C (exit 0), --count events or --idle-exit."""
    ctx = session()
    client = ctx.client()
    client.streams.get(stream)  # an unknown stream stops here, with exit code 4
    throwaway = group is None
    group_id = group or f"kafkagate-tail-{secrets.token_hex(6)}"
    printer = _printer(ctx.json)
    seen = 0
    # For a group that may already have a member on this gateway, any offset is a seek: send one only when asked.
    begin = _start(start) if start is not None else ("latest" if throwaway else None)
    consumer = client.consumer(stream, group_id, start=begin, limit=500, timeout_ms=1000, until_idle=idle_exit)
    try:
        with consumer:
            for event in consumer:
                printer(event)
                seen += 1
                if count is not None and seen >= count:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        if throwaway:
            _forget(client, group_id)
    return exit_codes.OK


def _printer(as_json: bool) -> Any:
    if as_json:

        def print_json(event: Event) -> None:
            output.write_line(orjson.dumps(output.document(event)))

        return print_json
    from rich.text import Text

    console = output.console()

    def print_line(event: Event) -> None:
        value = event.value if event.value_encoding else orjson.dumps(event.value).decode()
        line = Text.assemble((f"{event.partition}:{event.offset} ", "dim"), (f"{event.timestamp} ", "dim"))
        if event.key is not None:
            line.append(f"{event.key} ", style="cyan")
        line.append(str(value))
        console.print(line)

    return print_line


def _forget(client: Client, group_id: str) -> None:
    try:
        client.groups.close_sessions(group_id)
        client.groups.delete(group_id)
    except KafkagateError:
        pass  # best effort: an idle member is reaped by the gateway and an empty group by Kafka

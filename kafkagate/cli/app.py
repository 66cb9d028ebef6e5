"""The root `kafkagate` command group and the runner that turns every outcome into a documented exit code."""

from __future__ import annotations

import os
import sys

import click

from kafkagate.cli import exit_codes, output
from kafkagate.cli.access import auth, keys, tenants
from kafkagate.cli.groups import groups
from kafkagate.cli.processors import processors
from kafkagate.cli.produce import produce
from kafkagate.cli.session import Session, connection_options, session
from kafkagate.cli.streams import streams
from kafkagate.cli.tail import tail
from kafkagate.client.errors import KafkagateError

EPILOG = """\b
Exit codes: 0 ok, 1 refused by the gateway, 2 usage, 3 unauthorized or forbidden, 4 not found,
5 conflict, 6 partly done (produce), 7 gateway unreachable or overloaded, 130 interrupted.
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@connection_options
@click.pass_context
def kafkagate(ctx: click.Context) -> None:
    """kafkagate: an HTTP gateway for Apache Kafka, and a client for it.

    Client commands talk to a gateway at KAFKAGATE_URL with the bearer token KAFKAGATE_TOKEN (or --url and
    --token); --output json prints documents for scripts."""
    ctx.ensure_object(Session)


@kafkagate.command(context_settings={"ignore_unknown_options": True})
def serve() -> None:
    """Run the HTTP gateway (settings from KAFKAGATE_* variables)."""
    from gateway.cli import main

    main(["serve"])


@kafkagate.command(context_settings={"ignore_unknown_options": True})
def worker() -> None:
    """Run the processor supervisor (Faust worker processes for every processor)."""
    from gateway.cli import main

    main(["worker"])


@kafkagate.command()
@connection_options
def status() -> None:
    """Whether the gateway is up and connected to Kafka (exit 7 when it is not)."""
    ready = session().client().ready()
    if session().json:
        output.print_json(ready)
        return
    output.fields("gateway", list(ready.items()) if isinstance(ready, dict) else [("status", ready)])


for command in (streams, produce, tail, groups, processors, keys, tenants, auth):
    kafkagate.add_command(command)


def run(argv: list[str]) -> int:
    """Run `kafkagate ARGV`; never raises, returns the exit code."""
    with click.Context(kafkagate) as probe:
        session = probe.ensure_object(Session)
    try:
        result = kafkagate.main(args=argv, prog_name="kafkagate", standalone_mode=False, obj=session)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        return exit_codes.INTERRUPTED
    except output.ReaderGone:
        # The reader went away (`kafkagate tail s | head`): not a failure. Python would report the pipe again
        # when it flushes standard output at exit, so that flush goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exit_codes.OK
    except KafkagateError as exc:
        output.error(exc, as_json=session.json)
        return exit_codes.for_error(exc)
    finally:
        session.close()
    return result if isinstance(result, int) else exit_codes.OK


def main() -> None:
    raise SystemExit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()

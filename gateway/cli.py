"""`kafkagate serve` runs the gateway; `kafkagate worker` runs stream processors. The client commands
(`kafkagate streams ...`, `produce`, `tail`, ...) live in `kafkagate.cli`."""

from __future__ import annotations

import argparse
import logging
import sys

from pydantic import ValidationError


def _settings(**overrides: object) -> object:
    from gateway.settings import Settings

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = [
            f"  KAFKAGATE_{'_'.join(str(p) for p in e['loc']).upper() or '(settings)'}: {e['msg']}"
            for e in exc.errors()
        ]
        print("kafkagate: invalid configuration\n" + "\n".join(lines), file=sys.stderr)
        raise SystemExit(2) from None


OPEN_BANNER = """
#################################################################################
#  WARNING: KAFKAGATE_AUTH=off. THIS GATEWAY IS OPEN.                           #
#  Anyone who can reach its port can produce, consume and delete every stream.  #
#  Never expose it. Set KAFKAGATE_AUTH=required and KAFKAGATE_ADMIN_TOKEN.      #
#################################################################################
"""


def serve() -> None:
    from gateway import log_format, server
    from gateway.app import create_app
    from gateway.settings import Settings

    settings = _settings()
    assert isinstance(settings, Settings)  # noqa: S101 - narrowing for the type checker
    log_format.configure(settings.log_format)
    if settings.auth == "off":
        print(OPEN_BANNER, file=sys.stderr, flush=True)
    server.run(create_app(settings), settings)


def worker() -> None:
    from gateway import log_format
    from gateway.settings import Settings
    from processors.supervisor import run

    # The supervisor serves no HTTP, so it needs no credentials.
    settings = _settings(auth="off")
    assert isinstance(settings, Settings)  # noqa: S101 - narrowing for the type checker
    log_format.configure(settings.log_format)
    run(
        settings.bootstrap_servers,
        settings.processor_data_dir,
        metrics_host=settings.host,
        metrics_port=settings.worker_metrics_port,
        lake=settings.lake.sink_enabled,
    )


def main(argv: list[str] | None = None) -> None:
    from kafkagate import cli as client_cli  # imports nothing of the client until one of its commands runs

    args_given = sys.argv[1:] if argv is None else argv
    if client_cli.handles(args_given):
        raise SystemExit(client_cli.run(args_given))
    parser = argparse.ArgumentParser(prog="kafkagate", description="HTTP gateway for Apache Kafka")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the HTTP gateway (settings from KAFKAGATE_* variables)")
    sub.add_parser("worker", help="run the processor supervisor (Faust worker processes for every processor)")
    args = parser.parse_args(args_given)
    # Until the settings are read and name the log format (`gateway.log_format.configure`).
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        serve()
    elif args.command == "worker":
        worker()


if __name__ == "__main__":
    main()

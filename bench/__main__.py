"""`python -m bench`: start a broker and the gateway, measure, print a table, write JSON, stop both.

Set `KAFKAGATE_BENCH_BOOTSTRAP=host:port` to measure against a running broker instead of a throwaway one.
Other `KAFKAGATE_*` variables reach the gateway unchanged, and the raw clients copy the producer settings
they imply, so both sides always run with the same configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType

import orjson
from rich.console import Console
from rich.table import Table

from bench import schema_validation
from bench.auth import auth_overhead, overhead_lines
from bench.broker import Broker, throwaway_broker
from bench.errors import BenchError
from bench.measurement import Measurement
from bench.plan import Plan, parse_plan
from bench.progress import note
from bench.report import COLUMNS, document, rows, targets
from bench.server import echo_process, gateway_process
from bench.stats import summarize
from bench.suite import Results, Servers, run_suite
from gateway.settings import Settings

REUSE_VARIABLE = "KAFKAGATE_BENCH_BOOTSTRAP"


def _interrupt_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Re-raised as SIGINT so it takes Ctrl-C's path: inside `asyncio.Runner` that cancels the main task, where
    # raising KeyboardInterrupt here would instead kill whichever task happened to be running (aiokafka's sender).
    signal.raise_signal(signal.SIGINT)


def _event_loop_runner() -> asyncio.Runner:
    """uvloop when available, as the gateway itself runs on it; both sides share this one client loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def _print(plan: Plan, results: Results) -> None:
    summaries = summarize(results.measurements)
    console = Console(width=None if sys.stdout.isatty() else 160)
    table = Table(title=f"kafkagate bench: medians of {plan.repeats} run(s), min-max in brackets")
    for i, column in enumerate(COLUMNS):
        table.add_column(column, justify="left" if i < 2 else "right")
    for cells in rows(summaries):
        table.add_row(*cells)
    console.print(table)
    memory = Table(title="gateway resident memory")
    memory.add_column("when")
    memory.add_column("MiB (min-max)", justify="right")
    for reading in results.memory:
        spread = reading.spread
        memory.add_row(reading.name, f"{spread.median:.0f} ({spread.low:.0f}-{spread.high:.0f})")
    console.print(memory)
    console.print("targets (ratios of medians within this run):", highlight=False)
    for target in targets(plan, summaries, results.memory):
        console.print("  " + target.line(), highlight=False)


def _environments(plan: Plan) -> tuple[dict[str, str], dict[str, str], str]:
    """The open gateway's environment, the guarded one's, and the guarded one's root token."""
    gateway_env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKAGATE_BENCH_")}
    gateway_env.setdefault("KAFKAGATE_AUTH", "off")
    # The bench measures the gateway's throughput, not its default quotas: one open key would hit them first.
    gateway_env.setdefault("KAFKAGATE_RATE_LIMIT_REQUESTS_PER_S", "0")
    gateway_env.setdefault("KAFKAGATE_RATE_LIMIT_BYTES_PER_S", "0")
    gateway_env.setdefault("KAFKAGATE_CONSUMER_MAX_MEMBERS", str(plan.idle_members + 100))
    admin_token = secrets.token_urlsafe(32)
    auth_env = {**gateway_env, "KAFKAGATE_AUTH": "required", "KAFKAGATE_ADMIN_TOKEN": admin_token}
    return gateway_env, auth_env, admin_token


def run(argv: list[str] | None = None) -> int:
    plan = parse_plan(argv)
    reuse = os.environ.get(REUSE_VARIABLE)
    gateway_env, auth_env, admin_token = _environments(plan)
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    logging.basicConfig(level=logging.WARNING, format="bench: %(name)s: %(message)s")
    work_dir = Path(tempfile.mkdtemp(prefix="kafkagate-bench-"))
    keep_work_dir = False
    extra: list[Measurement] = []
    try:
        with contextlib.ExitStack() as stack:
            if reuse:
                broker, broker_note = Broker(reuse, None), f"reused {reuse}"
            else:
                note(f"starting a throwaway Kafka broker in {work_dir / 'broker'}")
                broker = stack.enter_context(throwaway_broker(work_dir / "broker"))
                broker_note = f"throwaway {broker.bootstrap}"
            note(f"starting the gateways (open, and with KAFKAGATE_AUTH=required) against {broker.bootstrap}")
            gateway = stack.enter_context(gateway_process(broker.bootstrap, gateway_env, work_dir / "gateway.log"))
            guarded = stack.enter_context(gateway_process(broker.bootstrap, auth_env, work_dir / "gateway-auth.log"))
            echo = stack.enter_context(echo_process(gateway_env, work_dir / "echo.log"))
            settings = Settings(bootstrap_servers=broker.bootstrap, auth="off")
            servers = Servers(
                gateway.base_url,
                gateway.pid,
                guarded.base_url,
                guarded.pid,
                admin_token,
                echo.base_url,
                echo.pid,
                broker.pid,
                work_dir,
            )
            with _event_loop_runner() as runner:
                results = runner.run(run_suite(plan, settings, servers))
                note("measuring authentication in-process")
                extra += runner.run(auth_overhead(broker.bootstrap, plan.auth_requests))
            note("measuring the stream schema check in-process")
            extra += schema_validation.schema_overhead(plan.schema_events)
            note("stopping the gateways" if reuse else "stopping the gateways and the broker")
    except BenchError as exc:
        keep_work_dir = True
        print(f"bench: {exc}\nbench: logs kept in {work_dir}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted; everything this run started was stopped", file=sys.stderr)
        return 130
    except BaseException:
        keep_work_dir = True
        print(f"bench: failed; logs kept in {work_dir}", file=sys.stderr)
        raise
    finally:
        if not keep_work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    _print(plan, results)
    print("\n" + "\n".join(overhead_lines(extra)))
    print("\n" + "\n".join(schema_validation.overhead_lines(extra)))
    plan.json_path.parent.mkdir(parents=True, exist_ok=True)
    summaries = summarize(results.measurements)
    plan.json_path.write_bytes(
        orjson.dumps(document(plan, settings, broker_note, summaries, results.memory), option=orjson.OPT_INDENT_2)
    )
    print(f"\nresults written to {plan.json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(run())

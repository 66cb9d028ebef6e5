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
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType

import orjson

from bench import schema_validation
from bench.auth import auth_overhead, overhead_lines
from bench.broker import Broker, throwaway_broker
from bench.cpu import CpuProbe
from bench.errors import BenchError
from bench.plan import parse_plan
from bench.report import document, table
from bench.server import gateway_process
from bench.suite import progress, run_suite
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


def run(argv: list[str] | None = None) -> int:
    plan = parse_plan(argv)
    reuse = os.environ.get(REUSE_VARIABLE)
    gateway_env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKAGATE_BENCH_")}
    gateway_env.setdefault("KAFKAGATE_AUTH", "off")
    # The bench measures the gateway's throughput, not its default quotas: one open key would hit them first.
    gateway_env.setdefault("KAFKAGATE_RATE_LIMIT_REQUESTS_PER_S", "0")
    gateway_env.setdefault("KAFKAGATE_RATE_LIMIT_BYTES_PER_S", "0")
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    logging.basicConfig(level=logging.WARNING, format="bench: %(name)s: %(message)s")
    work_dir = Path(tempfile.mkdtemp(prefix="kafkagate-bench-"))
    keep_work_dir = False
    try:
        with contextlib.ExitStack() as stack:
            if reuse:
                broker, broker_note = Broker(reuse, None), f"reused {reuse}"
            else:
                progress(f"starting a throwaway Kafka broker in {work_dir / 'broker'}")
                broker = stack.enter_context(throwaway_broker(work_dir / "broker"))
                broker_note = f"throwaway {broker.bootstrap}"
            progress(f"starting the gateway against {broker.bootstrap}")
            gateway = stack.enter_context(gateway_process(broker.bootstrap, gateway_env, work_dir / "gateway.log"))
            settings = Settings(bootstrap_servers=broker.bootstrap, auth="off")
            probe = CpuProbe(gateway.pid, broker.pid)
            with _event_loop_runner() as runner:
                measurements = runner.run(run_suite(plan, settings, gateway.base_url, probe))
                progress("measuring authentication in-process")
                measurements += runner.run(auth_overhead(broker.bootstrap, plan.auth_requests))
            progress("measuring the stream schema check in-process")
            measurements += schema_validation.schema_overhead(plan.schema_events)
            progress("stopping the gateway" if reuse else "stopping the gateway and the broker")
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
    print(table(measurements))
    print("\n" + "\n".join(overhead_lines(measurements)))
    print("\n" + "\n".join(schema_validation.overhead_lines(measurements)))
    plan.json_path.write_bytes(
        orjson.dumps(document(plan, settings, broker_note, measurements), option=orjson.OPT_INDENT_2)
    )
    print(f"\nresults written to {plan.json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(run())

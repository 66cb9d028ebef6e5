"""How much work a run does: fixed counts, never durations, so every run does the same work."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

from bench.clients import CLIENT_NAMES

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


@dataclass(frozen=True, slots=True)
class Plan:
    """Defaults keep a whole run, broker start included, to about ten minutes on a busy 2-core machine."""

    repeats: int = 3  # every figure is the median of this many runs
    single_events: int = 2000
    serial_events: int = 500  # single events at C=1, one at a time: each is a full acks=all round trip
    concurrency: tuple[int, ...] = (1, 32, 64)
    batches: int = 40
    batch_size: int = 1000
    batch_in_flight: tuple[int, ...] = (1, 4)
    consume_events: int = 200_000
    consume_limit: int = 1000
    java_records: int = 200_000  # ProducerPerformance: one JVM per run, so enough records to pass its warm-up
    idle_members: int = 1000
    warmup_events: int = 200
    warmup_batches: int = 4
    auth_requests: int = 20_000  # in-process, per credential kind
    schema_events: int = 50_000  # in-process, per stream-schema variant
    partitions: int = 3
    clients: tuple[str, ...] = ("aiohttp",)  # httpx costs the generator more CPU than the gateway (see clients.py)
    json_path: Path = RESULTS


QUICK = Plan(
    repeats=1,
    single_events=300,
    serial_events=100,
    concurrency=(1, 64),
    batches=8,
    batch_in_flight=(4,),
    consume_events=20_000,
    java_records=50_000,
    idle_members=50,
    warmup_events=50,
    warmup_batches=1,
    auth_requests=2000,
    schema_events=5000,
)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _levels(text: str) -> tuple[int, ...]:
    return tuple(_positive(part) for part in text.split(",") if part)


def _names(text: str) -> tuple[str, ...]:
    names = tuple(part for part in text.split(",") if part)
    unknown = [name for name in names if name not in CLIENT_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(CLIENT_NAMES)}")
    return names


_OPTIONS: dict[str, tuple[object, str]] = {
    "repeats": (_positive, "runs per figure; the table shows their median and min-max"),
    "single_events": (_positive, "single-event requests per level above 1, run and side"),
    "serial_events": (_positive, "single-event requests at C=1, per run and side"),
    "concurrency": (_levels, "comma-separated in-flight single-event requests"),
    "batches": (_positive, "batch requests per level, run and side"),
    "batch_size": (_positive, "events per batch request"),
    "batch_in_flight": (_levels, "comma-separated in-flight batch requests"),
    "consume_events": (_positive, "events each consume run reads"),
    "consume_limit": (_positive, "events per poll"),
    "java_records": (_positive, "records per ProducerPerformance run"),
    "idle_members": (_count, "idle consumer members for the memory figure (0 skips it)"),
    "warmup_events": (_positive, "single-event requests before each measured level"),
    "auth_requests": (_positive, "in-process requests per credential kind"),
    "schema_events": (_positive, "in-process events per stream-schema variant"),
    "partitions": (_positive, "per benchmark topic"),
    "clients": (_names, f"comma-separated HTTP clients that drive the gateway: {', '.join(CLIENT_NAMES)}"),
}


def parse_plan(argv: list[str] | None = None) -> Plan:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark kafkagate against raw aiokafka, Kafka's Java producer and a bare Starlette echo on "
        "a throwaway broker. Set KAFKAGATE_BENCH_BOOTSTRAP=host:port to use a running broker instead.",
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run: small counts, one run per figure")
    for name, (kind, help_text) in _OPTIONS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=None, help=help_text)
    parser.add_argument("--json", type=Path, default=None, help=f"where to write the results (default {RESULTS})")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else Plan()
    chosen = {name: getattr(args, name) for name in _OPTIONS if getattr(args, name) is not None}
    if args.json is not None:
        chosen["json_path"] = args.json
    return replace(plan, **chosen)

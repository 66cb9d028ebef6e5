"""How much work a run does: fixed counts, never durations, so every run does the same work."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from bench.clients import CLIENT_NAMES


@dataclass(frozen=True, slots=True)
class Plan:
    """Defaults keep a whole run, broker start included, to about a minute or two on a 2-core machine."""

    single_events: int = 2000
    concurrency: tuple[int, ...] = (1, 32)
    batches: int = 20
    batch_size: int = 1000
    consume_events: int = 20_000
    consume_limit: int = 1000
    warmup_events: int = 200
    warmup_batches: int = 2
    auth_requests: int = 20_000  # in-process, per credential kind
    schema_events: int = 50_000  # in-process, per stream-schema variant
    partitions: int = 3
    clients: tuple[str, ...] = ("aiohttp", "httpx")  # httpx alone saturates its own CPU at C=32
    json_path: Path = Path("/tmp/kafkagate-bench.json")  # noqa: S108 - a report for the reader, outside the repo


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def _levels(text: str) -> tuple[int, ...]:
    return tuple(_positive(part) for part in text.split(",") if part)


def _names(text: str) -> tuple[str, ...]:
    names = tuple(part for part in text.split(",") if part)
    unknown = [name for name in names if name not in CLIENT_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(CLIENT_NAMES)}")
    return names


def parse_plan(argv: list[str] | None = None) -> Plan:
    defaults = Plan()
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark kafkagate's produce and consume paths against raw aiokafka on a throwaway broker. "
        "Set KAFKAGATE_BENCH_BOOTSTRAP=host:port to use a running broker instead.",
    )
    parser.add_argument("--single-events", type=_positive, default=defaults.single_events, help="per level and side")
    parser.add_argument(
        "--concurrency", type=_levels, default=defaults.concurrency, help="comma-separated in-flight request counts"
    )
    parser.add_argument("--batches", type=_positive, default=defaults.batches)
    parser.add_argument("--batch-size", type=_positive, default=defaults.batch_size)
    parser.add_argument("--consume-events", type=_positive, default=defaults.consume_events)
    parser.add_argument("--consume-limit", type=_positive, default=defaults.consume_limit, help="events per poll")
    parser.add_argument("--warmup-events", type=_positive, default=defaults.warmup_events)
    parser.add_argument("--auth-requests", type=_positive, default=defaults.auth_requests, help="per credential")
    parser.add_argument(
        "--schema-events", type=_positive, default=defaults.schema_events, help="per stream-schema variant"
    )
    parser.add_argument("--partitions", type=_positive, default=defaults.partitions, help="per benchmark topic")
    parser.add_argument(
        "--clients",
        type=_names,
        default=defaults.clients,
        help=f"comma-separated HTTP clients that drive the gateway, each measured in turn: {', '.join(CLIENT_NAMES)}",
    )
    parser.add_argument("--json", type=Path, default=defaults.json_path, help="where to write the results")
    args = parser.parse_args(argv)
    return Plan(
        single_events=args.single_events,
        concurrency=args.concurrency,
        batches=args.batches,
        batch_size=args.batch_size,
        consume_events=args.consume_events,
        consume_limit=args.consume_limit,
        warmup_events=args.warmup_events,
        partitions=args.partitions,
        auth_requests=args.auth_requests,
        schema_events=args.schema_events,
        clients=args.clients,
        json_path=args.json,
    )

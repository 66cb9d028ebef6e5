"""Processor throughput: a kafkagate processor against a hand-written Faust agent doing the same work.

    python -m bench.processor [--bootstrap HOST:PORT] [--events N] [--repeats R]

Writes `events` JSON events of ~200 bytes (half with `amount` over 1000, 100 users) to a source topic once,
with a plain producer. Then, `repeats` times and interleaved, runs each side in a process of its own, from
the earliest offset, with a consumer group and a sink topic of its own:

- kafkagate: `python -m processors.worker` on the spec filter `value.amount > 1000` → tumbling window of 60 s →
  count grouped by `userId` (`emit: changes`), the benchmark's "CEL filter + tumbling count";
- Faust: `python -m bench.faust_agent`, the same pipeline written by hand, with the worker's producer linger
  (`--faust-linger-ms` to change it).

Both write one result per accepted event. The run samples the sink's end offsets every 0.2 s and times the
span from 5% to 95% of the expected results (steady state: start-up and the last partial batch left out). It
reports source events/s over that span (results/s over the share of accepted events) and the side's CPU
microseconds per source event over the same span, which holds up better than a rate on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.broker import given_or_throwaway
from bench.cpu import process_cpu_s
from gateway.app import create_app
from gateway.kafka.clients import KafkaClients
from gateway.settings import Settings
from gateway.timefmt import now_iso
from processors.worker import PRODUCER_LINGER_S
from schemas.processor_api import ProcessorRecord, spec_json
from schemas.processors import ProcessorSpec

PARTITIONS = 3
USERS = 100
_SAMPLE_S = 0.2
_FROM, _TO = 0.05, 0.95


@dataclass(frozen=True, slots=True)
class Run:
    side: str
    events_per_s: float
    cpu_us_per_event: float | None


async def _create(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()


async def _fill(bootstrap: str, topic: str, events: int) -> int:
    """Create `topic` and write `events` to it; how many pass the filter."""
    await _create(bootstrap, topic)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    accepted, rng = 0, random.Random(7)  # noqa: S311 - test data, not secrets
    try:
        pending = []
        for i in range(events):
            amount = rng.randrange(2000)
            accepted += amount > 1000
            value = {"id": i, "userId": f"u{i % USERS}", "amount": amount, "currency": "EUR", "note": "x" * 120}
            pending.append(await producer.send(topic, orjson.dumps(value), key=f"u{i % USERS}".encode()))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return accepted


def _spec(source: str, sink: str) -> dict[str, Any]:
    return {
        "name": f"bench-{sink}",
        "source": source,
        "operations": [
            {"type": "filter", "predicate": "value.amount > 1000"},
            {"type": "window", "windowType": "tumbling", "duration": 60_000},
            {"type": "aggregate", "aggregation": "count", "groupBy": "userId"},
        ],
        "sink": sink,
        "config": {"parallelism": 1},
    }


@contextlib.asynccontextmanager
async def _gateway(bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway in-process, so processors are created (and their topics provisioned) the way users do."""
    settings = Settings(bootstrap_servers=bootstrap, auth="off")
    clients = KafkaClients(settings)
    await clients.start()
    await clients.wait_ready(60)
    app = create_app(settings, kafka=clients)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            yield client
    finally:
        await clients.close()


async def _kafkagate_argv(
    gateway: httpx.AsyncClient, bootstrap: str, spec: dict[str, Any], directory: Path
) -> list[str]:
    """Create the processor through the gateway, then run its one worker the way the supervisor does (without a
    supervisor: nothing else starts a worker for it)."""
    created = await gateway.post("/api/v1/processors", json=spec)
    if created.status_code != 201:
        raise SystemExit(f"could not create the processor: {created.text}")
    now = now_iso()
    record = ProcessorRecord(
        processor_id=created.json()["processorId"],
        version=1,
        name=spec["name"],
        spec=spec_json(ProcessorSpec.model_validate(spec)),
        created_at=now,
        updated_at=now,
    )
    path = directory / f"{spec['sink']}.json"
    path.write_bytes(record.to_json())
    return [sys.executable, "-m", "processors.worker", "--record", str(path), "--bootstrap", bootstrap]


def _faust_argv(bootstrap: str, source: str, sink: str, linger_ms: float) -> list[str]:
    return [
        *(sys.executable, "-m", "bench.faust_agent", "--bootstrap", bootstrap, "--app-id", f"faust-{sink}"),
        *("--source", source, "--sink", sink, "--partitions", str(PARTITIONS), "--linger-ms", str(linger_ms)),
    ]


async def _results(consumer: AIOKafkaConsumer, sink: str) -> int:
    partitions = consumer.partitions_for_topic(sink)
    if not partitions:
        await consumer._client.force_metadata_update()  # the side creates its sink when it starts
        return 0
    ends = await consumer.end_offsets([TopicPartition(sink, p) for p in partitions])
    return sum(ends.values())


@dataclass(frozen=True, slots=True)
class Race:
    """One side's run: its process, and what it must write to `sink` (`expected` results for `events`)."""

    side: str
    argv: list[str]
    sink: str
    expected: int
    events: int


async def _race(bootstrap: str, race: Race, log: Path) -> Run:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    with log.open("wb") as out:
        child = await asyncio.create_subprocess_exec(*race.argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        marks: dict[float, tuple[float, float | None]] = {}
        deadline = time.monotonic() + 600
        while len(marks) < 2:
            if child.returncode is not None:
                raise SystemExit(f"{race.side} exited with {child.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise SystemExit(f"{race.side} did not write {race.expected:,} results in 600 s:\n{_tail(log)}")
            done = await _results(consumer, race.sink)
            for share in (_FROM, _TO):
                if share not in marks and done >= share * race.expected:
                    marks[share] = (time.monotonic(), process_cpu_s(child.pid))
            await asyncio.sleep(_SAMPLE_S)
    finally:
        if child.returncode is None:
            child.terminate()
        try:
            await asyncio.wait_for(child.wait(), 60)
        except TimeoutError:
            child.kill()
            await child.wait()
        await consumer.stop()
    (began, cpu_began), (ended, cpu_ended) = marks[_FROM], marks[_TO]
    source_events = (_TO - _FROM) * race.events
    cpu = None if cpu_began is None or cpu_ended is None else (cpu_ended - cpu_began) * 1e6 / source_events
    return Run(race.side, source_events / (ended - began), cpu)


def _tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:]


KAFKAGATE, FAUST = "kafkagate processor", "hand-written Faust agent"


async def _measure(
    bootstrap: str, events: int, repeats: int, directory: Path, faust_linger_ms: float
) -> dict[str, list[Run]]:
    source = f"bench-processor-{uuid.uuid4().hex[:8]}"
    expected = await _fill(bootstrap, source, events)
    print(f"source: {events:,} events in {source} ({expected:,} pass the filter)", flush=True)
    runs: dict[str, list[Run]] = {KAFKAGATE: [], FAUST: []}
    for round_no in range(repeats):
        for side, done in runs.items():
            sink = f"{source}-out-{round_no}-{'kg' if side == KAFKAGATE else 'faust'}"
            if side == KAFKAGATE:
                async with _gateway(bootstrap) as gateway:
                    argv = await _kafkagate_argv(gateway, bootstrap, _spec(source, sink), directory)
            else:
                await _create(bootstrap, sink)  # Faust creates the topics it reads, not the ones it only writes
                argv = _faust_argv(bootstrap, source, sink, faust_linger_ms)
            run = await _race(bootstrap, Race(side, argv, sink, expected, events), directory / f"{sink}.log")
            done.append(run)
            cpu = "n/a" if run.cpu_us_per_event is None else f"{run.cpu_us_per_event:.1f} µs CPU/event"
            print(f"  round {round_no + 1}: {side}: {run.events_per_s:,.0f} events/s, {cpu}", flush=True)
    return runs


def _report(runs: dict[str, list[Run]]) -> None:
    print("\nprocessor throughput (median of the rounds; min-max)")
    medians: dict[str, float] = {}
    for side, done in runs.items():
        rates = [r.events_per_s for r in done]
        cpus = [r.cpu_us_per_event for r in done if r.cpu_us_per_event is not None]
        medians[side] = statistics.median(rates)
        cpu = f", {statistics.median(cpus):.1f} µs CPU/event" if cpus else ""
        print(f"  {side:26} {medians[side]:>9,.0f} events/s ({min(rates):,.0f}-{max(rates):,.0f}){cpu}")
    kafkagate, faust = medians.values()
    print(f"  kafkagate / hand-written Faust: {kafkagate / faust:.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.processor", description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", help="an existing broker (default: start a throwaway one)")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--faust-linger-ms",
        type=float,
        default=PRODUCER_LINGER_S * 1000,
        help="the hand-written agent's producer linger (default: the kafkagate worker's)",
    )
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="kafkagate-processor-bench-") as tmp,
        given_or_throwaway(args.bootstrap, Path(tmp)) as bootstrap,
    ):
        os.environ["KAFKAGATE_DATA_DIR"] = str(Path(tmp) / "processors")
        runs = _measure(bootstrap, args.events, args.repeats, Path(tmp), args.faust_linger_ms)
        _report(asyncio.run(runs))


if __name__ == "__main__":
    main()

"""The run: topics of its own, then every measured step once per round, rounds repeated.

Each step is one workload on one side (raw aiokafka, Kafka's Java producer, the bare echo, the gateway open,
with a bearer token, with an idempotency key). Rounds interleave the sides, so a burst of noise from the rest of
the machine lands on all of them alike and ratios within a round stay fair. A step's first round is preceded by
its warm-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from bench import java, memory, raw, rest
from bench.clients import GatewayClient, open_client
from bench.cpu import CpuProbe
from bench.measurement import Measurement
from bench.plan import Plan
from bench.progress import Tracker, note
from gateway.settings import Settings

WARMUP = "warm-up"
ECHO = "starlette echo"
BEARER = "gateway+bearer"
IDEMPOTENT = "gateway+idempotency"


@dataclass(frozen=True, slots=True)
class Servers:
    """The HTTP processes under test and the broker, by pid for the CPU and memory probes."""

    gateway_url: str
    gateway_pid: int
    auth_url: str
    auth_pid: int
    admin_token: str
    echo_url: str
    echo_pid: int
    broker_pid: int | None
    work_dir: Path

    def probe(self, pid: int) -> CpuProbe:
        return CpuProbe(pid, self.broker_pid)


# A step's run: given the round number, measure once.
Run = Callable[[int], Awaitable[Measurement]]


@dataclass(slots=True)
class Step:
    label: str
    run: Run
    warmup: Callable[[], Awaitable[object]] | None = None


@dataclass(slots=True)
class Results:
    measurements: list[Measurement] = field(default_factory=list)
    memory: list[memory.Reading] = field(default_factory=list)


class Topics:
    """One topic per step, so a produce step never appends to another one's data."""

    def __init__(self) -> None:
        self.prefix = f"kafkagate-bench-{uuid.uuid4().hex[:8]}"
        self.names: list[str] = []

    def new(self, label: str) -> str:
        name = f"{self.prefix}-{len(self.names)}-{label}"
        self.names.append(name)
        return name


@dataclass(slots=True)
class Rig:
    plan: Plan
    settings: Settings
    servers: Servers
    topics: Topics
    producer: AIOKafkaProducer
    gateway: GatewayClient
    auth: GatewayClient
    echo: GatewayClient
    token: str = ""
    batch_peak: memory.Reading = field(default_factory=lambda: memory.Reading("under the batch workload"))


@dataclass(frozen=True, slots=True)
class HttpSide:
    """One way of reaching an HTTP server: which process, and what every request carries."""

    name: str
    http: GatewayClient
    pid: int
    bearer: bool = False
    keyed: bool = False  # an Idempotency-Key on every request


def _http_sides(rig: Rig) -> list[HttpSide]:
    servers = rig.servers
    return [
        HttpSide(ECHO, rig.echo, servers.echo_pid),
        HttpSide("gateway", rig.gateway, servers.gateway_pid),
        HttpSide(BEARER, rig.auth, servers.auth_pid, bearer=True),
        HttpSide(IDEMPOTENT, rig.gateway, servers.gateway_pid, keyed=True),
    ]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text)


def _single_count(plan: Plan, concurrency: int) -> int:
    return plan.serial_events if concurrency == 1 else plan.single_events


@dataclass(frozen=True, slots=True)
class RawSingle:
    rig: Rig
    scenario: str
    topic: str
    concurrency: int

    def __call__(self, r: int) -> Awaitable[Measurement]:
        plan, servers = self.rig.plan, self.rig.servers
        count = _single_count(plan, self.concurrency)
        return raw.produce_single(
            self.rig.producer,
            self.topic,
            self.scenario,
            count=count,
            concurrency=self.concurrency,
            first_index=plan.warmup_events + r * count,
            probe=servers.probe(servers.gateway_pid),
        )

    def warmup(self) -> Awaitable[Measurement]:
        plan = self.rig.plan
        return raw.produce_single(
            self.rig.producer, self.topic, WARMUP, count=plan.warmup_events, concurrency=self.concurrency
        )


@dataclass(frozen=True, slots=True)
class HttpSingle:
    rig: Rig
    side: HttpSide
    scenario: str
    stream: str
    concurrency: int

    def __call__(self, r: int) -> Awaitable[Measurement]:
        plan, side = self.rig.plan, self.side
        count = _single_count(plan, self.concurrency)
        return rest.produce_single(
            side.http,
            self.stream,
            self.scenario,
            count=count,
            concurrency=self.concurrency,
            first_index=plan.warmup_events + r * count,
            probe=self.rig.servers.probe(side.pid),
            token=self.rig.token if side.bearer else None,
            idempotency_keys=f"{self.stream}-r{r}" if side.keyed else None,
            variant=side.name,
        )

    def warmup(self) -> Awaitable[Measurement]:
        side = self.side
        return rest.produce_single(
            side.http,
            self.stream,
            WARMUP,
            count=self.rig.plan.warmup_events,
            concurrency=self.concurrency,
            token=self.rig.token if side.bearer else None,
            idempotency_keys=f"{self.stream}-warm" if side.keyed else None,
        )


def _single_steps(rig: Rig) -> list[Step]:
    steps: list[Step] = []
    for c in rig.plan.concurrency:
        scenario = f"single event C={c}"
        naive = RawSingle(rig, scenario, rig.topics.new(f"single-c{c}-raw"), c)
        steps.append(Step(f"{scenario} {raw.NAIVE}", naive, naive.warmup))
        for side in _http_sides(rig):
            http = HttpSingle(rig, side, scenario, rig.topics.new(f"single-c{c}-{_slug(side.name)}"), c)
            steps.append(Step(f"{scenario} {side.name}", http, http.warmup))
    return steps


@dataclass(frozen=True, slots=True)
class RawBatches:
    rig: Rig
    scenario: str
    topic: str
    in_flight: int
    batched: bool  # record batches per partition (send_batch) rather than one send per event

    def _produce(self, scenario: str, batches: int, first: int, probe: CpuProbe | None) -> Awaitable[Measurement]:
        plan = self.rig.plan
        if self.batched:
            return raw.produce_record_batches(
                self.rig.producer,
                self.topic,
                scenario,
                batches=batches,
                size=plan.batch_size,
                in_flight=self.in_flight,
                partitions=plan.partitions,
                first_index=first,
                probe=probe,
            )
        return raw.produce_batches(
            self.rig.producer,
            self.topic,
            scenario,
            batches=batches,
            size=plan.batch_size,
            in_flight=self.in_flight,
            first_index=first,
            probe=probe,
        )

    def __call__(self, r: int) -> Awaitable[Measurement]:
        plan, servers = self.rig.plan, self.rig.servers
        first = (plan.warmup_batches + r * plan.batches) * plan.batch_size
        return self._produce(self.scenario, plan.batches, first, servers.probe(servers.gateway_pid))

    def warmup(self) -> Awaitable[Measurement]:
        return self._produce(WARMUP, self.rig.plan.warmup_batches, 0, None)


@dataclass(frozen=True, slots=True)
class HttpBatches:
    rig: Rig
    side: HttpSide
    scenario: str
    stream: str
    in_flight: int

    async def __call__(self, r: int) -> Measurement:
        plan, side, servers = self.rig.plan, self.side, self.rig.servers
        work = rest.produce_batches(
            side.http,
            self.stream,
            self.scenario,
            batches=plan.batches,
            size=plan.batch_size,
            in_flight=self.in_flight,
            first_index=(plan.warmup_batches + r * plan.batches) * plan.batch_size,
            probe=servers.probe(side.pid),
            token=self.rig.token if side.bearer else None,
            idempotency_keys=f"{self.stream}-r{r}" if side.keyed else None,
            variant=side.name,
        )
        if side.name != "gateway":
            return await work
        async with memory.peak(servers.gateway_pid, self.rig.batch_peak):
            return await work

    def warmup(self) -> Awaitable[Measurement]:
        plan, side = self.rig.plan, self.side
        return rest.produce_batches(
            side.http,
            self.stream,
            WARMUP,
            batches=plan.warmup_batches,
            size=plan.batch_size,
            in_flight=self.in_flight,
            token=self.rig.token if side.bearer else None,
            idempotency_keys=f"{self.stream}-warm" if side.keyed else None,
        )


@dataclass(frozen=True, slots=True)
class JavaProducer:
    rig: Rig
    scenario: str
    topic: str

    def __call__(self, r: int) -> Awaitable[Measurement]:
        servers = self.rig.servers
        return java.produce(
            self.rig.settings,
            self.topic,
            self.scenario,
            records=self.rig.plan.java_records,
            work_dir=servers.work_dir,
            probe=servers.probe(servers.gateway_pid),
        )


def _batch_steps(rig: Rig) -> list[Step]:
    plan = rig.plan
    steps: list[Step] = []
    for n in plan.batch_in_flight:
        scenario = f"batch of {plan.batch_size:,} x{n}"
        for side, batched in ((raw.NAIVE, False), (raw.BATCHED, True)):
            produce = RawBatches(rig, scenario, rig.topics.new(f"batch-x{n}-{_slug(side)}"), n, batched)
            steps.append(Step(f"{scenario} {side}", produce, produce.warmup))
        if n == max(plan.batch_in_flight):
            steps.append(Step(f"{scenario} {java.SIDE}", JavaProducer(rig, scenario, rig.topics.new("java"))))
        for http_side in _http_sides(rig):
            http = HttpBatches(rig, http_side, scenario, rig.topics.new(f"batch-x{n}-{_slug(http_side.name)}"), n)
            steps.append(Step(f"{scenario} {http_side.name}", http, http.warmup))
    return steps


def _consume_steps(rig: Rig) -> list[Step]:
    plan, servers, topics = rig.plan, rig.servers, rig.topics
    scenario = f"consume limit={plan.consume_limit}"
    topic = topics.new("consume")
    count, limit = plan.consume_events, plan.consume_limit
    size = 1000

    async def fill() -> None:
        note(f"writing {count:,} events to read back")
        await raw.produce_record_batches(
            rig.producer, topic, WARMUP, batches=-(-count // size), size=size, in_flight=4, partitions=plan.partitions
        )

    def raw_run(r: int) -> Awaitable[Measurement]:
        group = f"{topics.prefix}-raw-r{r}"
        return raw.consume(
            rig.settings,
            topic,
            group,
            scenario,
            count=count,
            max_records=limit,
            probe=servers.probe(servers.gateway_pid),
        )

    def gateway_run(r: int) -> Awaitable[Measurement]:
        group = f"{topics.prefix}-gateway-r{r}"
        return rest.consume(
            rig.gateway, topic, group, scenario, count=count, limit=limit, probe=servers.probe(servers.gateway_pid)
        )

    return [
        Step(f"{scenario} {raw.CONSUMER}", raw_run, fill),
        Step(f"{scenario} gateway", gateway_run),
    ]


async def _idle_members(rig: Rig, results: Results) -> None:
    plan, pid = rig.plan, rig.servers.gateway_pid
    if not plan.idle_members:
        return
    reading = memory.Reading(f"with {plan.idle_members:,} idle consumer members")
    stream = rig.topics.names[-1]  # the consume topic: polls find data at once
    note(f"creating {plan.idle_members:,} idle consumer members")
    groups, failed = await memory.hold_members(rig.gateway, stream, f"{rig.topics.prefix}-idle", plan.idle_members)
    if failed:
        note(f"{failed:,} of the {plan.idle_members:,} member polls failed or timed out; the figure holds fewer")
        reading.name += f" ({failed:,} not created)"
    for _ in range(plan.repeats):
        sample = memory.rss_mb(pid)
        if sample is not None:
            reading.samples_mb.append(sample)
        await asyncio.sleep(1.0)
    results.memory.append(reading)
    note("closing the idle members")
    await memory.release_members(rig.gateway, groups)


async def run_suite(plan: Plan, settings: Settings, servers: Servers) -> Results:
    """Every step against `settings.bootstrap_servers` and the servers; topics are removed after."""
    results = Results()
    idle = memory.Reading("idle")
    for _ in range(plan.repeats):
        sample = memory.rss_mb(servers.gateway_pid)
        if sample is not None:
            idle.samples_mb.append(sample)
    results.memory.append(idle)
    topics = Topics()
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="kafkagate-bench-admin")
    await admin.start()
    try:
        async with contextlib.AsyncExitStack() as stack:
            producer = AIOKafkaProducer(**raw.producer_options(settings))
            await producer.start()
            stack.push_async_callback(producer.stop)
            lanes = max(*plan.concurrency, *plan.batch_in_flight, 16)
            name = plan.clients[0]
            clients = [
                open_client(name, url, lanes) for url in (servers.gateway_url, servers.auth_url, servers.echo_url)
            ]
            for http in clients:
                stack.push_async_callback(http.aclose)
            rig = Rig(plan, settings, servers, topics, producer, *clients)
            rig.token = await rest.create_key(rig.auth, servers.admin_token)
            steps = [*_single_steps(rig), *_batch_steps(rig), *_consume_steps(rig)]
            await admin.create_topics([NewTopic(name, plan.partitions, 1) for name in topics.names])
            with Tracker(len(steps) * plan.repeats) as tracker:
                for r in range(plan.repeats):
                    for step in steps:
                        label = f"round {r + 1}/{plan.repeats}: {step.label}"
                        if r == 0 and step.warmup is not None:
                            tracker.begin(f"{label} (warm-up)")
                            await step.warmup()
                        tracker.begin(label)
                        measured = await step.run(r)
                        results.measurements.append(measured)
                        tracker.done(f"{label}: {measured.events_per_s:,.0f} events/s")
            results.memory.append(rig.batch_peak)
            try:
                await _idle_members(rig, results)
            except Exception as exc:  # noqa: BLE001 - the throughput figures of the whole run are kept
                note(f"the idle members figure failed and is left out: {exc!r}")
    finally:
        try:
            with contextlib.suppress(KafkaError):  # never hide the error that ended the run
                await admin.delete_topics(topics.names)
        finally:
            await admin.close()
    return results

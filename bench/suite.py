"""The run: topics of its own, then each workload raw first and through the gateway second, warm-up first."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from bench import payload, raw, rest
from bench.clients import GatewayClient, open_client
from bench.cpu import CpuProbe
from bench.measurement import Measurement
from bench.plan import Plan
from gateway.settings import Settings

WARMUP = "warm-up"


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


class Topics:
    """One topic per workload and side, so a produce workload never appends to another one's data."""

    def __init__(self, plan: Plan):
        run = uuid.uuid4().hex[:8]
        self.prefix = f"kafkagate-bench-{run}"
        self.single = {c: (f"{self.prefix}-single-c{c}-raw", f"{self.prefix}-single-c{c}-gw") for c in plan.concurrency}
        self.idempotent = {c: f"{self.prefix}-single-idempotent-c{c}-gw" for c in plan.concurrency}
        self.batch = (f"{self.prefix}-batch-raw", f"{self.prefix}-batch-gw")
        self.consume = f"{self.prefix}-consume"

    def all(self) -> list[str]:
        names = [name for pair in self.single.values() for name in pair]
        return [*names, *self.idempotent.values(), *self.batch, self.consume]


async def _measured(label: str, work: Awaitable[Measurement]) -> Measurement:
    progress(f"{label} ...")
    result = await work
    progress(f"{label}: {result.events_per_s:,.0f} events/s")
    return result


@dataclass(frozen=True, slots=True)
class Rig:
    """Everything a workload drives or watches."""

    plan: Plan
    settings: Settings
    topics: Topics
    producer: AIOKafkaProducer
    clients: list[GatewayClient]
    probe: CpuProbe | None


async def _single(rig: Rig) -> list[Measurement]:
    plan, probe = rig.plan, rig.probe
    warmup, count = plan.warmup_events, plan.single_events
    results: list[Measurement] = []
    for c in plan.concurrency:
        scenario = f"produce single C={c}"
        raw_topic, stream = rig.topics.single[c]
        await raw.produce_single(rig.producer, raw_topic, WARMUP, count=warmup, concurrency=c)
        measured = raw.produce_single(
            rig.producer, raw_topic, scenario, count=count, concurrency=c, first_index=warmup, probe=probe
        )
        results.append(await _measured(f"{scenario} raw", measured))
        for http in rig.clients:
            await rest.produce_single(http, stream, WARMUP, count=warmup, concurrency=c)
            measured = rest.produce_single(
                http, stream, scenario, count=count, concurrency=c, first_index=warmup, probe=probe
            )
            results.append(await _measured(f"{scenario} {rest.side(http)}", measured))
    return results


async def _idempotent_single(rig: Rig) -> list[Measurement]:
    """The single-event workload again, each request with its own Idempotency-Key: the cost of the claim and
    result records next to the plain case (gateway only; raw aiokafka has no such thing)."""
    plan, probe = rig.plan, rig.probe
    warmup, count = plan.warmup_events, plan.single_events
    results: list[Measurement] = []
    for c in plan.concurrency:
        scenario, stream = f"produce idempotent C={c}", rig.topics.idempotent[c]
        for http in rig.clients:
            keys = f"{stream}-{http.name}"
            await rest.produce_single(http, stream, WARMUP, count=warmup, concurrency=c, idempotency_keys=keys)
            measured = rest.produce_single(
                http,
                stream,
                scenario,
                count=count,
                concurrency=c,
                first_index=warmup,
                probe=probe,
                idempotency_keys=keys,
            )
            results.append(await _measured(f"{scenario} {rest.side(http)}", measured))
    return results


async def _batch(rig: Rig) -> list[Measurement]:
    plan, probe = rig.plan, rig.probe
    scenario = f"produce batch N={plan.batch_size}"
    raw_topic, stream = rig.topics.batch
    size, warmup, first = plan.batch_size, plan.warmup_batches, plan.warmup_batches * plan.batch_size
    await raw.produce_batches(rig.producer, raw_topic, WARMUP, batches=warmup, size=size)
    measured = raw.produce_batches(
        rig.producer, raw_topic, scenario, batches=plan.batches, size=size, first_index=first, probe=probe
    )
    results = [await _measured(f"{scenario} raw", measured)]
    for http in rig.clients:
        await rest.produce_batches(http, stream, WARMUP, batches=warmup, size=size)
        measured = rest.produce_batches(
            http, stream, scenario, batches=plan.batches, size=size, first_index=first, probe=probe
        )
        results.append(await _measured(f"{scenario} {rest.side(http)}", measured))
    return results


async def _consume(rig: Rig) -> list[Measurement]:
    plan, topics, probe = rig.plan, rig.topics, rig.probe
    scenario = f"consume limit={plan.consume_limit}"
    count, limit = plan.consume_events, plan.consume_limit
    progress(f"writing {count:,} events to read back")
    futures = [
        await rig.producer.send(topics.consume, payload.VALUE, key=payload.key(i).encode()) for i in range(count)
    ]
    await asyncio.gather(*futures)
    group = f"{topics.prefix}-raw"
    results = [
        await _measured(
            f"{scenario} raw",
            raw.consume(rig.settings, topics.consume, group, scenario, count=count, max_records=limit, probe=probe),
        )
    ]
    for http in rig.clients:
        group = f"{topics.prefix}-{http.name}"
        results.append(
            await _measured(
                f"{scenario} {rest.side(http)}",
                rest.consume(http, topics.consume, group, scenario, count=count, limit=limit, probe=probe),
            )
        )
    return results


async def run_suite(plan: Plan, settings: Settings, base_url: str, probe: CpuProbe | None) -> list[Measurement]:
    """Every workload against `settings.bootstrap_servers` and the gateway at `base_url`; topics are removed after."""
    topics = Topics(plan)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="kafkagate-bench-admin")
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, plan.partitions, 1) for name in topics.all()])
        async with contextlib.AsyncExitStack() as stack:
            producer = AIOKafkaProducer(**raw.producer_options(settings))
            await producer.start()
            stack.push_async_callback(producer.stop)
            clients: list[GatewayClient] = []
            for name in plan.clients:
                http = open_client(name, base_url, max(plan.concurrency))
                stack.push_async_callback(http.aclose)
                clients.append(http)
            rig = Rig(plan, settings, topics, producer, clients, probe)
            return [*await _single(rig), *await _idempotent_single(rig), *await _batch(rig), *await _consume(rig)]
    finally:
        try:
            with contextlib.suppress(KafkaError):  # never hide the error that ended the run
                await admin.delete_topics(topics.all())
        finally:
            await admin.close()

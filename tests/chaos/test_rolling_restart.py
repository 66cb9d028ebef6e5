"""A rolling restart of all three brokers under steady load: clients produce, a consumer group polls and commits
through the gateway, and a processor counts events per group in tumbling windows in a real worker process.
Nothing acknowledged is lost, the group never skips an offset and resumes from its commits, and the
processor's final counts equal those computed from the source stream by a plain consumer."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from processors.supervisor import Supervisor
from schemas.processor_api import processor_group
from tests.chaos.cluster import cluster_view
from tests.chaos.faults import GATEWAY_UNDER_FAULTS, restart, sigterm
from tests.chaos.figures import Figures
from tests.chaos.load import landed, produce, read_topic
from tests.chaos.test_cluster_faults import create_replicated_stream
from tests.conftest import CLUSTER_BROKERS, Broker
from tests.integration.conftest import GatewayFactory

pytestmark = [pytest.mark.kafka, pytest.mark.chaos, pytest.mark.slow]

CLIENTS = 8
GROUPS = 4
WINDOW_MS = 300_000
# While a broker is down, the processor may read one source partition behind another; after the groupBy's
# repartition topic merges them, a window's events can arrive after the next window's. The grace covers that
# disorder, so the oracle (every source event counted) holds: with grace 0 those events are late and dead-lettered.
GRACE_MS = 120_000


@pytest.fixture
async def supervisor(kafka_cluster: Broker, tmp_path: Path) -> AsyncIterator[Supervisor]:
    running = Supervisor(kafka_cluster.bootstrap, tmp_path / "processors")
    task = asyncio.create_task(running.run())
    yield running
    running.request_stop()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 60)


def counted_event(event_id: int) -> dict[str, Any]:
    return {"key": f"e{event_id}", "value": {"id": event_id, "g": f"g{event_id % GROUPS}"}}


class GroupReader:
    """A consumer group member polling through the gateway and committing what it read after every poll."""

    def __init__(self, gateway: httpx.AsyncClient, stream: str):
        self._gateway = gateway
        self._stream = stream
        self.group = f"g-{uuid.uuid4().hex[:10]}"
        self.read: dict[int, list[int]] = {}  # partition -> offsets in the order they were delivered
        self.committed: dict[int, int] = {}
        self.gaps: list[tuple[int, int, int]] = []  # (partition, expected at most, got)
        self.before_commit: list[tuple[int, int, int]] = []  # (partition, committed, got)
        self.failures: Counter[str] = Counter()
        self.polls = 0

    async def poll_once(self, first: bool) -> int:
        params: dict[str, Any] = {"consumerGroup": self.group, "limit": 500, "timeout": 500}
        if first:
            params["offset"] = "earliest"
        response = await self._gateway.get(f"/api/v1/streams/{self._stream}/events", params=params)
        if response.status_code != 200:
            self.failures[f"poll {response.status_code}"] += 1
            return 0
        self.polls += 1
        events = response.json()["events"]
        ends: dict[int, int] = {}
        for event in events:
            partition, offset = event["partition"], event["offset"]
            seen = self.read.setdefault(partition, [])
            if seen and offset > max(seen) + 1:
                self.gaps.append((partition, max(seen) + 1, offset))
            if offset < self.committed.get(partition, 0):
                self.before_commit.append((partition, self.committed[partition], offset))
            seen.append(offset)
            ends[partition] = offset + 1
        if ends:
            offsets = [{"stream": self._stream, "partition": p, "offset": o} for p, o in ends.items()]
            committed = await self._gateway.post(f"/api/v1/consumers/{self.group}/commit", json={"offsets": offsets})
            if committed.status_code == 200:
                self.committed.update(ends)
            else:
                self.failures[f"commit {committed.status_code}"] += 1
        return len(events)

    async def run(self, stop: asyncio.Event) -> None:
        first = True
        while not stop.is_set():
            if await self.poll_once(first) == 0:
                await asyncio.sleep(0.2)
            first = first and self.polls == 0

    async def catch_up(self, ends: dict[int, int], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while any(self.committed.get(p, 0) < end for p, end in ends.items() if end):
            assert time.monotonic() < deadline, f"the group never caught up: {self.committed} < {ends}"
            await self.poll_once(first=False)


@pytest.mark.timeout(600)
async def test_rolling_restart_under_load_loses_nothing(
    make_gateway: GatewayFactory, kafka_cluster: Broker, supervisor: Supervisor
) -> None:
    gateway = await make_gateway(bootstrap_servers=kafka_cluster.bootstrap, **GATEWAY_UNDER_FAULTS)
    figures = Figures("cluster_rolling_restart")
    source = await create_replicated_stream(gateway)
    sink = f"{source}-counts"
    spec = {
        "name": f"counts-{source}",
        "source": source,
        "operations": [
            {"type": "window", "windowType": "tumbling", "duration": WINDOW_MS, "grace": GRACE_MS, "emit": "final"},
            {"type": "aggregate", "aggregation": "count", "groupBy": "g"},
        ],
        "sink": sink,
        "config": {"parallelism": 1, "checkpointInterval": 1000},
    }
    created = await gateway.post("/api/v1/processors", json=spec)
    assert created.status_code == 201, created.text
    processor_id = created.json()["processorId"]

    reader = GroupReader(gateway, source)
    stop_load, stop_reading = asyncio.Event(), asyncio.Event()

    async def post(event_id: int, attempt: int) -> httpx.Response:
        return await gateway.post(f"/api/v1/streams/{source}/events", json=counted_event(event_id))

    async def rolling_restart() -> None:
        loop = asyncio.get_running_loop()
        async with cluster_view(kafka_cluster.bootstrap) as view:
            await asyncio.sleep(3)  # load and polls under way
            for node in range(1, CLUSTER_BROKERS + 1):
                began = loop.time()
                figures.note(f"stopping broker {node}")
                await sigterm(kafka_cluster.node_pid(node))
                figures.note(f"starting broker {node}")
                await restart(kafka_cluster)
                for topic in (source, sink):
                    await view.wait_isr(topic, CLUSTER_BROKERS, 90)
                figures.note(f"broker {node} back in every ISR")
                figures.extra[f"broker_{node}_restart_s"] = round(loop.time() - began, 1)
        stop_load.set()

    try:
        reading = asyncio.create_task(reader.run(stop_reading))
        outcomes, _ = await asyncio.gather(
            produce(post, 1_000_000, CLIENTS, figures, stop=stop_load, deadline_s=400), rolling_restart()
        )
        figures.note(f"load done: {len(outcomes.acked)} acknowledged; reading the source back")
        records = await read_topic(kafka_cluster.bootstrap, source)
        ends: dict[int, int] = {}
        for record in records:
            ends[record.partition] = max(ends.get(record.partition, 0), record.offset + 1)
        stop_reading.set()
        await reading
        await reader.catch_up(ends, 60)
        figures.note("the group caught up; closing the windows")

        await processed(kafka_cluster.bootstrap, processor_group(processor_id), source, ends, timeout_s=120)
        figures.note("the processor read the whole source")
        # Only then (a closer could otherwise overtake load events on their way through the repartition topic and
        # make them late), events far enough ahead close every window the load wrote to (emit: final): one per
        # group to every source partition, as stream time advances per partition.
        closer = AIOKafkaProducer(bootstrap_servers=kafka_cluster.bootstrap, acks="all")
        await closer.start()
        try:
            ahead_ms = int(time.time() * 1000) + 2 * WINDOW_MS + GRACE_MS
            for partition in ends:
                for group in range(GROUPS):
                    value = orjson.dumps({"id": -1, "g": f"g{group}"})
                    await closer.send_and_wait(source, value, partition=partition, timestamp_ms=ahead_ms)
        finally:
            await closer.stop()
        expected: Counter[tuple[str, int]] = Counter()
        for record in records:
            value = orjson.loads(record.value)
            expected[(value["g"], record.timestamp // WINDOW_MS * WINDOW_MS)] += 1
        counts = await final_counts(kafka_cluster.bootstrap, sink, len(expected), timeout_s=120)
        figures.note(f"{len(counts)} final counts in the sink")
        metrics = (await gateway.get(f"/api/v1/processors/{processor_id}/metrics")).json()["metrics"]
    finally:
        stop_load.set()
        stop_reading.set()
        await gateway.delete(f"/api/v1/processors/{processor_id}")

    result = landed(records, outcomes)
    redelivered = sum(len(o) - len(set(o)) for o in reader.read.values())
    figures.extra.update(
        landed=len(result.ids),
        duplicates=result.duplicates,
        lost=len(result.lost),
        group_polls=reader.polls,
        group_failures=dict(reader.failures),
        group_gaps=len(reader.gaps),
        group_redelivered=redelivered,
        windows=len(expected),
        processor_counts_match=counts == dict(expected),
        processor_late_events=metrics["lateEvents"],
    )
    figures.report()
    assert not result.lost, f"acknowledged events lost: {result.lost[:10]}"
    assert result.duplicates == 0, "an event was written twice"
    assert not result.unexplained, f"events nobody sent: {result.unexplained[:10]}"
    assert not reader.gaps, f"the group skipped offsets: {reader.gaps[:5]}"
    assert not reader.before_commit, f"the group went back before a commit: {reader.before_commit[:5]}"
    assert {p: set(o) for p, o in reader.read.items()} == {p: set(range(end)) for p, end in ends.items() if end}
    assert counts == dict(expected), (
        f"processor counts {counts} != oracle {dict(expected)}; late events: {metrics['lateEvents']}"
    )


async def processed(bootstrap: str, group: str, topic: str, ends: dict[int, int], timeout_s: float) -> None:
    """Wait until the processor's group committed `topic` up to `ends` (Faust commits a partition's last event
    only once another arrives, so one short counts as done)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            offsets = await admin.list_consumer_group_offsets(group)
            done = {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}
            if all(done.get(p, 0) >= end - 1 for p, end in ends.items() if end):
                break
            assert time.monotonic() < deadline, f"the processor never caught up: {done} < {ends}"
            await asyncio.sleep(0.5)
    finally:
        await admin.close()
    await asyncio.sleep(2)  # the last event of each partition, read but not yet committed


async def final_counts(bootstrap: str, sink: str, windows: int, timeout_s: float) -> dict[tuple[str, int], int]:
    """The sink's final count per (group, window start) once `windows` results arrived; a window emitted twice
    fails (emit: final promises one result per window)."""
    deadline = time.monotonic() + timeout_s
    while True:
        seen: Counter[tuple[str, int]] = Counter()
        counts: dict[tuple[str, int], int] = {}
        for record in await read_topic(bootstrap, sink):
            value = orjson.loads(record.value)
            key = (value["g"], value["windowStart"])
            seen[key] += 1
            counts[key] = value["count"]
        assert all(n == 1 for n in seen.values()), f"a window was emitted more than once: {seen}"
        if len(counts) >= windows or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(1)

"""Processors end to end: the gateway stores the spec, a real supervisor starts real Faust workers, and the test
reads the sink and dead-letter topics with a plain consumer and compares them with numbers it computes itself."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from processors.supervisor import Supervisor
from tests.integration.conftest import read_all

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

NewStream = Callable[..., Awaitable[str]]
WINDOW_MS = 300_000
# A window boundary two hours ago: recent enough for every topic's default 7-day retention (the test broker
# enforces retention every second). Replays of old events have their own test.
BASE_MS = (int(time.time() * 1000) // WINDOW_MS - 24) * WINDOW_MS


@pytest.fixture
async def supervisor(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Supervisor]:
    running = Supervisor(kafka_bootstrap, tmp_path / "processors")
    task = asyncio.create_task(running.run())
    yield running
    running.request_stop()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 60)


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await client.start()
    yield client
    await client.stop()


async def wait_for(check: Callable[[], Awaitable[Any]], timeout_s: float, what: str) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.5)


def seed_spec(name: str, source: str, sink: str, **window: Any) -> dict[str, Any]:
    return {
        "name": name,
        "source": source,
        "operations": [
            {"type": "filter", "predicate": "value.amount > 1000"},
            {"type": "map", "function": "enrichWithUserData"},
            {"type": "window", "windowType": "tumbling", "duration": WINDOW_MS, **window},
            {"type": "aggregate", "aggregation": "count", "groupBy": "userId"},
        ],
        "sink": sink,
        "config": {"parallelism": 1, "checkpointInterval": 1000},
    }


Create = Callable[[dict[str, Any]], Awaitable[str]]


@pytest.fixture
async def create(gateway: httpx.AsyncClient) -> AsyncIterator[Create]:
    """Create processors through the gateway; each is deleted afterwards so later supervisors do not run it."""
    created: list[str] = []

    async def factory(spec: dict[str, Any]) -> str:
        response = await gateway.post("/api/v1/processors", json=spec)
        assert response.status_code == 201, response.text
        processor_id: str = response.json()["processorId"]
        created.append(processor_id)
        return processor_id

    yield factory
    for processor_id in created:
        await gateway.delete(f"/api/v1/processors/{processor_id}")


class Rig(NamedTuple):
    """Everything a processor test drives: the gateway, topics, a producer, the supervisor and its workers."""

    gateway: httpx.AsyncClient
    new_stream: NewStream
    producer: AIOKafkaProducer
    supervisor: Supervisor
    bootstrap: str
    create: Create


@pytest.fixture
def rig(
    gateway: httpx.AsyncClient,
    new_stream: NewStream,
    producer: AIOKafkaProducer,
    supervisor: Supervisor,
    create: Create,
) -> Rig:
    return Rig(gateway, new_stream, producer, supervisor, supervisor.bootstrap, create)


@pytest.mark.timeout(300)
async def test_seed_example_end_to_end(rig: Rig) -> None:
    suffix = uuid.uuid4().hex[:8]
    transactions = await rig.new_stream(partitions=4)  # the seed asks for parallelism 4
    users = f"users-{suffix}"
    await new_stream_named(rig.gateway, users, {"cleanupPolicy": "compact"})
    for user in ("u1", "u2", "u3"):
        await rig.producer.send_and_wait(users, orjson.dumps({"name": user.upper(), "tier": "gold"}), key=user.encode())

    sink = f"fraud-alerts-{suffix}"
    spec = seed_spec(f"fraud-detection-{suffix}", transactions, sink)
    spec["config"]["parallelism"] = 4
    spec["operations"][1]["args"] = {"table": users}
    processor_id = await rig.create(spec)

    # `emit: changes` is at-least-once across a rebalance (README, window semantics): a partition that moves
    # while events flow may send a window's latest value again. This test checks the exact sequence of results,
    # so it produces only once all four workers run and their group has settled.
    async def all_workers_running() -> bool | None:
        response = await rig.gateway.get(f"/api/v1/processors/{processor_id}/metrics")
        document: dict[str, Any] = response.json()
        workers = document.get("workers", [])
        return (
            True
            if document["status"] == "running" and len(workers) == 4 and all(w["status"] == "running" for w in workers)
            else None
        )

    await wait_for(all_workers_running, 120, "four running workers")

    # Four windows of transactions; every third is small and filtered out; one poison record in window 1.
    # Each window is produced once the previous one's results are out, so no event arrives after stream time
    # passed its window (grace 0 makes such an event late, as in ksqlDB).
    expected: Counter[tuple[str, int]] = Counter()
    sent = 0
    for window in range(4):
        for i in range(15):
            n = window * 15 + i
            user = f"u{n % 3 + 1}"
            amount = 500 if n % 3 == 0 else 1500 + n
            timestamp = BASE_MS + window * WINDOW_MS + i * 10_000
            value = orjson.dumps({"amount": amount, "userId": user})
            await rig.producer.send_and_wait(transactions, value, key=user.encode(), timestamp_ms=timestamp)
            sent += 1
            if amount > 1000:
                expected[(user, window)] += 1
        if window == 1:
            await rig.producer.send_and_wait(transactions, b"\x00not json", key=b"u1", timestamp_ms=timestamp)
            sent += 1
        await wait_for(await_records(rig.bootstrap, sink, sum(expected.values())), 120, f"window {window} results")

    records = await read_all(rig.bootstrap, sink, sum(expected.values()), timeout_s=60)
    assert len(records) == sum(expected.values()), "emit: changes sends one result per accepted event"
    latest: dict[tuple[str, int], int] = {}
    seen: defaultdict[tuple[str, int], list[int]] = defaultdict(list)
    for record in records:
        value = orjson.loads(record.value)
        assert record.key.decode() == value["userId"]
        assert value["windowEnd"] - value["windowStart"] == WINDOW_MS
        assert record.timestamp == value["windowEnd"] - 1
        window = (value["windowStart"] - BASE_MS) // WINDOW_MS
        seen[(value["userId"], window)].append(value["count"])
        latest[(value["userId"], window)] = value["count"]
    assert latest == dict(expected)
    assert all(counts == list(range(1, len(counts) + 1)) for counts in seen.values())

    dead = await read_all(rig.bootstrap, f"{spec['name']}.dlq", 1)
    assert [r.value for r in dead] == [b"\x00not json"]
    headers = dict(dead[0].headers)
    assert headers["kafkagate-source-topic"] == transactions.encode()
    assert int(headers["kafkagate-source-offset"]) >= 0

    async def settled_metrics() -> dict[str, Any] | None:
        response = await rig.gateway.get(f"/api/v1/processors/{processor_id}/metrics")
        document: dict[str, Any] = response.json()
        # Each worker reports every 2 s on its own: one worker's processed events may show before another's
        # results, so wait until every counter has caught up, then check each exactly.
        figures = document["metrics"]
        caught_up = (
            figures["eventsProcessed"] >= sent
            and figures["eventsEmitted"] >= sum(expected.values())
            and figures["dlqEvents"] >= 1
            and figures["lag"] == 0
        )
        return document if caught_up else None

    document = await wait_for(settled_metrics, 30, "metrics to report every event")
    metrics = document["metrics"]
    assert document["status"] == "running"
    assert metrics["eventsProcessed"] == sent
    assert metrics["eventsFiltered"] == 20
    assert metrics["eventsEmitted"] == sum(expected.values())
    assert metrics["dlqEvents"] == 1
    assert metrics["lateEvents"] == 0
    assert metrics["lag"] == 0
    assert metrics["lastEventAt"] is not None


async def new_stream_named(gateway: httpx.AsyncClient, name: str, config: dict[str, Any]) -> None:
    response = await gateway.post("/api/v1/streams", json={"name": name, "partitions": 1, "config": config})
    assert response.status_code == 201, response.text


@pytest.mark.timeout(300)
async def test_emit_final_once_per_window_across_kill_9(rig: Rig) -> None:
    suffix = uuid.uuid4().hex[:8]
    source = await rig.new_stream(partitions=1)
    sink = f"finals-{suffix}"
    spec = seed_spec(f"finals-{suffix}", source, sink, emit="final")
    del spec["operations"][1]  # no enrichment: group by the raw userId
    processor_id = await rig.create(spec)

    async def send(user: str, window: int, offset_ms: int) -> None:
        value = orjson.dumps({"amount": 5000, "userId": user})
        await rig.producer.send_and_wait(
            source, value, key=user.encode(), timestamp_ms=BASE_MS + window * WINDOW_MS + offset_ms
        )

    # Windows 0 and 1, then one event in window 2 closes both (stream time > end + grace 0; end is exclusive,
    # so an event exactly at the end would not close it yet).
    for window in (0, 1):
        for user, n in (("a", 3), ("b", 2)):
            for k in range(n):
                await send(user, window, 1000 * k)
    await send("a", 2, 1000)

    await wait_for(await_records(rig.bootstrap, sink, 4), 90, "final results of windows 0 and 1")
    # Let the worker commit its source offsets (checkpointInterval 1 s; Faust holds back the partition's last
    # event until the next one arrives), then kill it without warning.
    admin = AIOKafkaAdminClient(bootstrap_servers=rig.bootstrap)
    await admin.start()
    try:

        async def committed() -> bool:
            offsets = await admin.list_consumer_group_offsets(f"_kafkagate.proc.{processor_id}")
            return any(tp.topic == source and meta.offset >= 10 for tp, meta in offsets.items())

        await wait_for(committed, 60, "the worker to commit its source offsets")
    finally:
        await admin.close()
    worker = rig.supervisor.workers[(processor_id, 0)]
    assert worker.process is not None
    killed_pid = worker.process.pid
    os.kill(killed_pid, signal.SIGKILL)

    # Window 2 so far holds one event from before the kill; two more arrive after it, then window 3 closes it.
    await send("a", 2, 5000)
    await send("b", 2, 6000)
    await send("a", 3, 1000)
    records = await wait_for(await_records(rig.bootstrap, sink, 6), 120, "final results of window 2 after the restart")
    restarted = rig.supervisor.workers[(processor_id, 0)].process
    assert restarted is not None
    assert restarted.pid != killed_pid

    await asyncio.sleep(3)  # anything duplicated would show up by now
    records = await read_all(rig.bootstrap, sink, 6, timeout_s=2)
    results: Counter[tuple[str, int]] = Counter()
    counts = {}
    for record in records:
        value = orjson.loads(record.value)
        key = (value["userId"], (value["windowStart"] - BASE_MS) // WINDOW_MS)
        results[key] += 1
        counts[key] = value["count"]
    assert all(n == 1 for n in results.values()), f"a window was emitted twice: {results}"
    assert counts == {("a", 0): 3, ("b", 0): 2, ("a", 1): 3, ("b", 1): 2, ("a", 2): 2, ("b", 2): 1}


@pytest.mark.timeout(240)
@pytest.mark.parametrize("point", ["final-before-send", "final-after-send"])
async def test_emit_final_once_when_the_worker_dies_around_the_sink_write(
    rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    """The worker exits (as if killed) right before or right after its final results reach the sink, before it
    releases the closed windows. The restarted worker must send what never left and nothing that did."""
    fault = tmp_path / "fault"
    fault.write_text(point)
    monkeypatch.setenv("KAFKAGATE_FAULT_FILE", str(fault))
    suffix = uuid.uuid4().hex[:8]
    source = await rig.new_stream(partitions=1)
    sink = f"crash-{suffix}"
    spec = seed_spec(f"crash-{suffix}", source, sink, emit="final")
    del spec["operations"][1]  # no enrichment: group by the raw userId
    processor_id = await rig.create(spec)

    worker_pid = worker_pid_of(rig, processor_id)

    first_pid = await wait_for(worker_pid, 30, "the worker to start")

    async def send(user: str, window: int, offset_ms: int) -> None:
        value = orjson.dumps({"amount": 5000, "userId": user})
        await rig.producer.send_and_wait(
            source, value, key=user.encode(), timestamp_ms=BASE_MS + window * WINDOW_MS + offset_ms
        )

    for user, n in (("a", 3), ("b", 2)):
        for k in range(n):
            await send(user, 0, 1000 * k)
    await send("a", 1, 1000)  # closes window 0: the worker dies at the fault point

    async def died_and_restarted() -> bool:
        return not fault.exists() and await worker_pid() not in (None, first_pid)

    await wait_for(died_and_restarted, 60, f"the worker to die at {point} and be restarted")
    await send("b", 2, 1000)  # closes window 1 in the restarted worker
    await wait_for(await_records(rig.bootstrap, sink, 3), 90, "final results of windows 0 and 1")
    await asyncio.sleep(3)  # anything sent twice would show up by now
    records = await read_all(rig.bootstrap, sink, 3, timeout_s=2)
    finals = Counter(
        (value["userId"], (value["windowStart"] - BASE_MS) // WINDOW_MS, value["count"])
        for value in (orjson.loads(record.value) for record in records)
    )
    assert finals == Counter({("a", 0, 3): 1, ("b", 0, 2): 1, ("a", 1, 1): 1}), f"after a crash at {point}"


@pytest.mark.timeout(240)
async def test_a_handler_that_raises_restarts_the_worker_and_skips_nothing(
    rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected exception inside a handler (a bug, or a table write Faust refuses) must not let the worker
    read on past the event: it exits, is restarted from its committed offsets and counts every event once."""
    fault = tmp_path / "fault"
    fault.write_text("raise:aggregate")
    monkeypatch.setenv("KAFKAGATE_FAULT_FILE", str(fault))
    suffix = uuid.uuid4().hex[:8]
    source = await rig.new_stream(partitions=1)
    sink = f"raise-{suffix}"
    spec = seed_spec(f"raise-{suffix}", source, sink)
    del spec["operations"][1]  # no enrichment: group by the raw userId
    processor_id = await rig.create(spec)

    worker_pid = worker_pid_of(rig, processor_id)

    first_pid = await wait_for(worker_pid, 30, "the worker to start")
    sent = Counter({"a": 4, "b": 3})
    for user, n in sent.items():
        for k in range(n):
            value = orjson.dumps({"amount": 5000, "userId": user})
            await rig.producer.send_and_wait(source, value, key=user.encode(), timestamp_ms=BASE_MS + 1000 * k)

    async def raised_and_restarted() -> bool:
        return not fault.exists() and await worker_pid() not in (None, first_pid)

    await wait_for(raised_and_restarted, 60, "the worker to raise in its handler and be restarted")

    async def counted() -> dict[str, int] | None:
        records = await read_all(rig.bootstrap, sink, sum(sent.values()), timeout_s=2)
        latest: dict[str, int] = {}
        for record in records:
            value = orjson.loads(record.value)
            latest[value["userId"]] = max(latest.get(value["userId"], 0), value["count"])
        return latest if latest == dict(sent) else None

    await wait_for(counted, 90, f"counts {dict(sent)} in the sink")


async def test_second_processor_does_not_disturb_the_first(rig: Rig) -> None:
    suffix = uuid.uuid4().hex[:8]
    source = await rig.new_stream(partitions=2)
    first_sink, second_sink = f"big-{suffix}", f"small-{suffix}"
    first = {
        "name": f"big-{suffix}",
        "source": source,
        "operations": [{"type": "filter", "predicate": "value.n >= 0"}],
        "sink": first_sink,
    }
    first_id = await rig.create(first)
    for n in range(20):
        await rig.producer.send_and_wait(source, orjson.dumps({"n": n}), key=str(n).encode())

    await wait_for(await_records(rig.bootstrap, first_sink, 20), 90, "the first processor's output")
    process = rig.supervisor.workers[(first_id, 0)].process
    assert process is not None
    pid = process.pid

    second = {
        "name": f"small-{suffix}",
        "source": source,
        "operations": [{"type": "map", "expression": "{'n': value.n, 'double': value.n * 2}"}],
        "sink": second_sink,
    }
    await rig.create(second)
    for n in range(20, 40):
        await rig.producer.send_and_wait(source, orjson.dumps({"n": n}), key=str(n).encode())

    records = await wait_for(await_records(rig.bootstrap, first_sink, 40), 90, "the first processor to keep going")
    assert sorted(orjson.loads(r.value)["n"] for r in records) == list(range(40))
    still = rig.supervisor.workers[(first_id, 0)].process
    assert still is not None
    assert still.pid == pid, "creating another processor restarted this one"
    assert still.returncode is None

    doubled = await wait_for(await_records(rig.bootstrap, second_sink, 40), 90, "the second processor's output")
    assert sorted(orjson.loads(r.value)["double"] for r in doubled) == [2 * n for n in range(40)]


def worker_pid_of(rig: Rig, processor_id: str) -> Callable[[], Awaitable[int | None]]:
    """The pid of the processor's worker 0 right now (None while it has none)."""

    async def worker_pid() -> int | None:
        worker = rig.supervisor.workers.get((processor_id, 0))
        return worker.process.pid if worker is not None and worker.process is not None else None

    return worker_pid


def await_records(bootstrap: str, topic: str, count: int) -> Callable[[], Awaitable[list[Any]]]:
    async def check() -> list[Any]:
        records = await read_all(bootstrap, topic, count, timeout_s=1)
        return records if len(records) >= count else []

    return check


async def test_idle_close_after_closes_the_last_window_without_new_events(rig: Rig) -> None:
    suffix = uuid.uuid4().hex[:8]
    source = await rig.new_stream(partitions=1)
    sink = f"idle-{suffix}"
    spec = {
        "name": f"idle-{suffix}",
        "source": source,
        "operations": [
            {"type": "window", "windowType": "tumbling", "duration": 4000, "emit": "final", "idleCloseAfter": 1000},
            {"type": "aggregate", "aggregation": "sum", "field": "amount", "groupBy": "userId"},
        ],
        "sink": sink,
    }
    await rig.create(spec)
    # Event times are wall-clock times here, so stream time keeps pace with the wall clock once the source idles.
    for amount in (5, 7):
        await rig.producer.send_and_wait(source, orjson.dumps({"amount": amount, "userId": "a"}), key=b"a")

    (record,) = await wait_for(await_records(rig.bootstrap, sink, 1), 60, "the idle window's final result")
    value = orjson.loads(record.value)
    assert (value["userId"], value["sum"]) == ("a", 12)
    assert value["windowEnd"] - value["windowStart"] == 4000


async def test_pause_stops_the_workers_and_resume_or_update_restarts_them(rig: Rig) -> None:
    suffix = uuid.uuid4().hex[:8]
    source = await rig.new_stream(partitions=1)
    sink = f"life-{suffix}"
    spec: dict[str, Any] = {
        "name": f"life-{suffix}",
        "source": source,
        "operations": [{"type": "map", "expression": "{'n': value.n, 'v': 1}"}],
        "sink": sink,
    }
    processor_id = await rig.create(spec)
    await rig.producer.send_and_wait(source, orjson.dumps({"n": 0}))
    await wait_for(await_records(rig.bootstrap, sink, 1), 60, "the first output")

    assert (await rig.gateway.post(f"/api/v1/processors/{processor_id}/pause")).status_code == 200

    async def stopped() -> bool:
        return (processor_id, 0) not in rig.supervisor.workers

    await wait_for(stopped, 30, "the rig.supervisor to stop the paused processor's worker")
    await rig.producer.send_and_wait(source, orjson.dumps({"n": 1}))
    await asyncio.sleep(3)
    assert len(await read_all(rig.bootstrap, sink, 2, timeout_s=1)) == 1, "a paused processor processed an event"
    status = (await rig.gateway.get(f"/api/v1/processors/{processor_id}/metrics")).json()["status"]
    assert status == "paused"

    assert (await rig.gateway.post(f"/api/v1/processors/{processor_id}/resume")).status_code == 200
    records = await wait_for(await_records(rig.bootstrap, sink, 2), 60, "the resumed processor to catch up")
    assert [orjson.loads(r.value) for r in records] == [{"n": 0, "v": 1}, {"n": 1, "v": 1}]

    spec["operations"] = [{"type": "map", "expression": "{'n': value.n, 'v': 2}"}]
    response = await rig.gateway.put(f"/api/v1/processors/{processor_id}", json=spec)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2

    async def on_version_2() -> bool:
        worker = rig.supervisor.workers.get((processor_id, 0))
        return worker is not None and worker.version == 2 and worker.process is not None

    await wait_for(on_version_2, 30, "a worker of version 2")
    await rig.producer.send_and_wait(source, orjson.dumps({"n": 2}))
    records = await wait_for(await_records(rig.bootstrap, sink, 3), 60, "output of version 2")
    # Version 2 continues from version 1's committed offsets: nothing is reprocessed, the new event uses the new map.
    assert [orjson.loads(r.value) for r in records] == [{"n": 0, "v": 1}, {"n": 1, "v": 1}, {"n": 2, "v": 2}]


async def test_sample_and_route_send_each_event_to_its_sink(rig: Rig) -> None:
    suffix = uuid.uuid4().hex[:8]
    source = await rig.new_stream(partitions=2)
    big, small = f"big-{suffix}", f"small-{suffix}"
    spec = {
        "name": f"router-{suffix}",
        "source": source,
        "operations": [
            {"type": "sample", "rate": 0.5, "byKey": True},
            {"type": "route", "cases": [{"predicate": "value.amount >= 100", "sink": big}], "default": small},
        ],
    }
    processor_id = await rig.create(spec)
    keys = [f"k{i}" for i in range(40)]
    for i, key in enumerate(keys):
        await rig.producer.send_and_wait(source, orjson.dumps({"amount": i * 10, "key": key}), key=key.encode())

    # byKey sampling is deterministic: sampling the same keys twice keeps the same ones.
    for key in keys:
        await rig.producer.send_and_wait(source, orjson.dumps({"amount": 5, "key": key}), key=key.encode())

    async def all_processed() -> bool:
        metrics = (await rig.gateway.get(f"/api/v1/processors/{processor_id}/metrics")).json()["metrics"]
        return bool(metrics["eventsProcessed"] >= 2 * len(keys))

    await wait_for(all_processed, 90, "every event to be processed")
    await asyncio.sleep(1)  # outputs of the last events may still be in the worker's rig.producer buffer
    big_records = await read_all(rig.bootstrap, big, 1, timeout_s=2)
    small_records = await read_all(rig.bootstrap, small, 1, timeout_s=2)
    big_values = [orjson.loads(r.value) for r in big_records]
    small_values = [orjson.loads(r.value) for r in small_records]
    assert all(v["amount"] >= 100 for v in big_values)
    assert all(v["amount"] < 100 for v in small_values)
    kept_first = {v["key"] for v in big_values + small_values if v["amount"] != 5}
    kept_second = {v["key"] for v in small_values if v["amount"] == 5}
    assert kept_first == kept_second, "byKey sampling kept different keys for the same keys"
    assert 5 <= len(kept_first) <= 35, f"a 0.5 sample of 40 keys kept {len(kept_first)}"


@pytest.mark.timeout(240)
async def test_replay_of_month_old_events_survives_time_based_retention(rig: Rig) -> None:
    """Old events keep their timestamps through the repartition topic, so that topic must not use time-based
    retention (the test broker enforces retention every second); the runtime purges it after commits instead.
    Dead letters are stamped when they are written, with the source timestamp in a header."""
    suffix = uuid.uuid4().hex[:8]
    window_ms = 60_000
    base_ms = (int(time.time() * 1000) // window_ms - 30 * 24 * 60) * window_ms  # 30 days ago
    users = f"users-{suffix}"
    await new_stream_named(rig.gateway, users, {"cleanupPolicy": "compact"})
    tiers = {"u1": "gold", "u2": "silver", "u3": "gold"}
    for user, tier in tiers.items():
        await rig.producer.send_and_wait(users, orjson.dumps({"tier": tier}), key=user.encode())
    # Source and sink are the user's: they keep the history as long as the user says (here: forever).
    source = await rig.new_stream(partitions=1, configs={"retention.ms": "-1"})
    sink = f"tier-sums-{suffix}"
    await new_stream_named(rig.gateway, sink, {"retentionMs": -1})
    spec = {
        "name": f"replay-{suffix}",
        "source": source,
        "operations": [
            {"type": "map", "function": "enrichWithUserData", "args": {"table": users}},
            {"type": "window", "windowType": "tumbling", "duration": window_ms, "emit": "final"},
            {"type": "aggregate", "aggregation": "sum", "field": "amount", "groupBy": "user.tier"},
        ],
        "sink": sink,
        "config": {"parallelism": 1, "checkpointInterval": 1000},
    }
    processor_id = await rig.create(spec)

    expected: Counter[tuple[str, int]] = Counter()
    for n in range(24):
        user, window = f"u{n % 3 + 1}", n // 12
        timestamp = base_ms + window * window_ms + (n % 12) * 1000
        await rig.producer.send_and_wait(
            source, orjson.dumps({"userId": user, "amount": n}), key=user.encode(), timestamp_ms=timestamp
        )
        expected[(tiers[user], window)] += n
    poison_ms = base_ms + window_ms + 30_000
    before_poison = int(time.time() * 1000)
    await rig.producer.send_and_wait(source, b"not json", key=b"u1", timestamp_ms=poison_ms)
    await rig.producer.send_and_wait(  # closes windows 0 and 1 (stream time > window end)
        source, orjson.dumps({"userId": "u2", "amount": 0}), key=b"u2", timestamp_ms=base_ms + 2 * window_ms + 1000
    )

    records = await wait_for(await_records(rig.bootstrap, sink, 4), 120, "final sums of windows 0 and 1")
    sums = {
        (value["tier"], (value["windowStart"] - base_ms) // window_ms): value["sum"]
        for value in (orjson.loads(record.value) for record in records)
    }
    assert sums == dict(expected), "the map enriched each event and no repartitioned event was lost"
    assert all(record.timestamp < base_ms + 2 * window_ms for record in records), "results carry event time"

    (dead,) = await read_all(rig.bootstrap, f"{spec['name']}.dlq", 1)
    assert dead.value == b"not json"
    assert dict(dead.headers)["kafkagate-source-timestamp"] == str(poison_ms).encode()
    assert dead.timestamp >= before_poison, "a dead letter is stamped when it is written"

    repartition = f"{spec['name']}.repartition"
    admin = AIOKafkaAdminClient(bootstrap_servers=rig.bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, repartition)])
        entries = described.to_object()["resources"][0]["config_entries"]
        assert {e["config_names"]: e["config_value"] for e in entries}["retention.ms"] == "-1"
    finally:
        await admin.close()

    async def purged() -> bool:
        probe = AIOKafkaConsumer(bootstrap_servers=rig.bootstrap, group_id=None)
        await probe.start()
        try:
            starts = await probe.beginning_offsets([TopicPartition(repartition, 0)])
        finally:
            await probe.stop()
        return bool(starts[TopicPartition(repartition, 0)] > 0)

    await wait_for(purged, 60, "the worker to delete committed repartition records")
    metrics = (await rig.gateway.get(f"/api/v1/processors/{processor_id}/metrics")).json()["metrics"]
    assert metrics["dlqEvents"] == 1


async def test_start_from_latest_skips_what_the_source_already_holds(rig: Rig) -> None:
    suffix = uuid.uuid4().hex[:8]
    source = await rig.new_stream(partitions=2)
    sink = f"fresh-{suffix}"
    for n in range(6):
        await rig.producer.send_and_wait(source, orjson.dumps({"n": n}), key=str(n).encode())
    spec = {
        "name": f"fresh-{suffix}",
        "source": source,
        "operations": [{"type": "map", "expression": "{'n': value.n}"}],
        "sink": sink,
        "config": {"startFrom": "latest"},
    }
    await rig.create(spec)
    # Events produced after the create call count, even those that arrive before a worker has started.
    for n in range(6, 10):
        await rig.producer.send_and_wait(source, orjson.dumps({"n": n}), key=str(n).encode())

    await wait_for(await_records(rig.bootstrap, sink, 4), 90, "the events produced after the processor was created")
    await asyncio.sleep(2)  # anything read from before the create would show up by now
    records = await read_all(rig.bootstrap, sink, 4, timeout_s=2)
    assert sorted(orjson.loads(r.value)["n"] for r in records) == [6, 7, 8, 9]


def monthly_counts(name: str, source: str, sink: str) -> dict[str, Any]:
    """Counts per user in 30-day windows, emitted on every change (stamped window end - 1, days ahead)."""
    return {
        "name": name,
        "source": source,
        "operations": [
            {"type": "window", "windowType": "tumbling", "duration": 30 * 86_400_000},
            {"type": "aggregate", "aggregation": "count", "groupBy": "userId"},
        ],
        "sink": sink,
    }


async def test_results_of_windows_longer_than_an_hour_reach_the_sink(rig: Rig) -> None:
    """While a 30-day window is open its results are stamped window end - 1, days ahead of the clock; Kafka 4
    refuses such records on topics with default configs, so the sink the gateway creates accepts them."""
    source = await rig.new_stream(partitions=1)
    sink = f"monthly-{uuid.uuid4().hex[:8]}"
    await rig.create(monthly_counts(sink, source, sink))
    for _ in range(3):
        await rig.producer.send_and_wait(source, orjson.dumps({"userId": "a"}), key=b"a")

    records = await wait_for(await_records(rig.bootstrap, sink, 3), 90, "the running counts of the open window")
    assert [orjson.loads(r.value)["count"] for r in records] == [1, 2, 3]
    assert all(r.timestamp == orjson.loads(r.value)["windowEnd"] - 1 for r in records)


@pytest.mark.timeout(240)
async def test_a_sink_that_refuses_results_fails_the_processor_without_losing_them(rig: Rig) -> None:
    """A user-made sink that refuses timestamps an hour ahead (Kafka 4's default) cannot take the running
    results of a 30-day window. The processor reports failed with the reason and commits nothing past them;
    once the sink is fixed, resume delivers the window's latest result."""
    source = await rig.new_stream(partitions=1)
    sink = await rig.new_stream(partitions=1, configs={"message.timestamp.after.max.ms": "3600000"})
    spec = monthly_counts(f"refused-{uuid.uuid4().hex[:8]}", source, sink)
    spec["config"] = {"checkpointInterval": 500}
    processor_id = await rig.create(spec)
    for _ in range(3):
        await rig.producer.send_and_wait(source, orjson.dumps({"userId": "a"}), key=b"a")

    async def failed() -> dict[str, Any] | None:
        document: dict[str, Any] = (await rig.gateway.get(f"/api/v1/processors/{processor_id}")).json()
        return document if document["status"] == "failed" else None

    document = await wait_for(failed, 60, "the processor to report the refused write")
    assert "InvalidTimestampError" in document["reason"], document
    admin = AIOKafkaAdminClient(bootstrap_servers=rig.bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(f"_kafkagate.proc.{processor_id}")
        assert all(meta.offset <= 0 for tp, meta in committed.items() if tp.topic == source), committed
        unbounded = {"message.timestamp.after.max.ms": "9223372036854775807"}
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, sink, configs=unbounded)])
    finally:
        await admin.close()

    assert (await rig.gateway.post(f"/api/v1/processors/{processor_id}/resume")).status_code == 200
    # The window's state may have reached the changelog before the worker stopped; the replayed events then
    # send its latest value again (emit: changes is at-least-once), so the sink ends at the full count.
    records = await wait_for(await_records(rig.bootstrap, sink, 1), 90, "results after the sink was fixed")
    await asyncio.sleep(3)
    records = await read_all(rig.bootstrap, sink, len(records), timeout_s=2)
    counts = [orjson.loads(r.value)["count"] for r in records]
    assert counts[-1] == 3, counts
    assert all(1 <= n <= 3 for n in counts), counts

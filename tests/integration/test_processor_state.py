"""Queryable processor state: a real supervisor and Faust worker publish an aggregate's state, the gateway
answers `GET /api/v1/processors/{id}/state` from its copy, and `after` makes it include a just-produced event."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from processors.supervisor import Supervisor
from tests.integration.test_processors_runtime import Create, create, producer, supervisor, wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
__all__ = ["create", "producer", "supervisor"]

WINDOW_MS = 3_600_000


def spec(name: str, source: str, sink: str, group_by: str) -> dict[str, Any]:
    return {
        "name": name,
        "source": source,
        "operations": [
            {"type": "window", "windowType": "tumbling", "duration": WINDOW_MS},
            {"type": "aggregate", "aggregation": "count", "groupBy": group_by},
        ],
        "sink": sink,
        "config": {"parallelism": 1, "checkpointInterval": 1000},
    }


async def produce(gateway: httpx.AsyncClient, stream: str, user: str) -> str:
    """Produce one event through the gateway; its position as `partition:offset`."""
    sent = await gateway.post(f"/api/v1/streams/{stream}/events", json={"key": user, "value": {"userId": user}})
    assert sent.status_code in {200, 201}, sent.text
    return f"{sent.json()['partition']}:{sent.json()['offset']}"


def count_of(document: dict[str, Any]) -> int:
    open_windows = [w for w in document["windows"] if not w["closed"]]
    assert len(open_windows) <= 1  # one-hour windows: the test runs inside one (or at the turn of an hour)
    return sum(w["value"]["count"] for w in open_windows)


@pytest.mark.timeout(300)
async def test_after_a_just_produced_position_the_state_includes_it(
    gateway: httpx.AsyncClient, supervisor: Supervisor, create: Create
) -> None:
    """Two processors over one source: one groups by a value field (through a repartition topic), one by the
    record key (aggregating in stage 1). Each produce is followed at once by a read `after` its position."""
    suffix = uuid.uuid4().hex[:8]
    source = f"clicks-{suffix}"
    for stream in (source, f"by-field-{suffix}", f"by-key-{suffix}"):
        created = await gateway.post("/api/v1/streams", json={"name": stream, "partitions": 3})
        assert created.status_code == 201, created.text
    states = {}
    for group_by, name in (("userId", "by-field"), ("key", "by-key")):
        processor_id = await create(spec(f"{name}-{suffix}", source, f"{name}-{suffix}", group_by))
        states[group_by] = f"/api/v1/processors/{processor_id}/state"
    for state in states.values():
        assert (await gateway.get(f"{state}?key=u1")).json()["windows"] == []  # nothing yet, and no waiting

    # The first event waits out the workers' start.
    expected: Counter[str] = Counter()
    position = await produce(gateway, source, "u1")
    expected["u1"] += 1
    for state in states.values():
        await wait_for(lambda s=state: _counted(gateway, s, "u1", position), 120, "the workers to start and publish")
    for n in range(12):
        user = f"u{n % 3 + 1}"
        position = await produce(gateway, source, user)
        expected[user] += 1
        for state in states.values():
            answer = await gateway.get(f"{state}?key={user}&after={position}")
            assert answer.status_code == 200, answer.text
            assert count_of(answer.json()) == expected[user], answer.json()
    for state in states.values():
        document = (await gateway.get(f"{state}?key=u2")).json()
        assert document["key"] == "u2"
        assert document["processorId"] in state
        window = document["windows"][0]
        assert window["windowEnd"] - window["windowStart"] == WINDOW_MS
        assert "u2" in window["value"].values()  # the group field, named after what it groups by

    # Staleness without `after`: how long after a produce the state shows it (measured, never asserted).
    lags = []
    for _ in range(5):
        started = time.monotonic()
        await produce(gateway, source, "u3")
        expected["u3"] += 1
        while count_of((await gateway.get(f"{states['userId']}?key=u3")).json()) < expected["u3"]:
            assert time.monotonic() - started < 30
        lags.append(time.monotonic() - started)
    print(f"processor state visible {min(lags) * 1000:.0f}-{max(lags) * 1000:.0f} ms after the produce ack")


async def _counted(gateway: httpx.AsyncClient, state: str, user: str, position: str) -> bool:
    answer = await gateway.get(f"{state}?key={user}&after={position}")
    if answer.status_code == 504:
        return False
    assert answer.status_code == 200, answer.text
    return count_of(answer.json()) == 1


async def test_state_requests_are_checked(gateway: httpx.AsyncClient) -> None:
    assert (await gateway.get("/api/v1/processors/nope/state?key=a")).status_code == 404
    bad = await gateway.get("/api/v1/processors/nope/state?key=a&after=zero")
    assert bad.status_code == 400
    assert (await gateway.get("/api/v1/processors/nope/state")).status_code == 400


@pytest.mark.timeout(300)
async def test_the_state_survives_a_kill_9_of_its_worker(
    gateway: httpx.AsyncClient, supervisor: Supervisor, create: Create
) -> None:
    """The worker is killed without warning while it aggregates; the supervisor restarts it, which restores the
    table from its changelog and reads on from the committed offsets. Reads `after` each later produce show every
    event counted once."""
    suffix = uuid.uuid4().hex[:8]
    source = f"kills-{suffix}"
    for stream in (source, f"kill-counts-{suffix}"):
        created = await gateway.post("/api/v1/streams", json={"name": stream, "partitions": 1})
        assert created.status_code == 201, created.text
    processor_id = await create(spec(f"kill-counts-{suffix}", source, f"kill-counts-{suffix}", "userId"))
    state = f"/api/v1/processors/{processor_id}/state"

    position = await produce(gateway, source, "u1")
    await wait_for(lambda: _counted(gateway, state, "u1", position), 120, "the worker to start and publish")
    for _ in range(4):
        position = await produce(gateway, source, "u1")
    answer = await gateway.get(f"{state}?key=u1&after={position}")
    assert count_of(answer.json()) == 5, answer.json()

    worker = supervisor.workers[(processor_id, 0)]
    assert worker.process is not None
    killed = worker.process.pid
    os.kill(killed, signal.SIGKILL)

    for _ in range(3):
        position = await produce(gateway, source, "u1")

    async def restarted_and_counted() -> bool:
        answer = await gateway.get(f"{state}?key=u1&after={position}")
        return answer.status_code == 200 and count_of(answer.json()) >= 8

    await wait_for(restarted_and_counted, 120, "the restarted worker to count the events after the kill")
    restarted = supervisor.workers[(processor_id, 0)].process
    assert restarted is not None
    assert restarted.pid != killed
    await asyncio.sleep(3)  # a replay counted twice would show by now
    assert count_of((await gateway.get(f"{state}?key=u1")).json()) == 8

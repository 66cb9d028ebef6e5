"""Load for chaos tests: numbered events from concurrent clients, and a plain consumer that reads back what
landed, so every check compares what clients were told with what Kafka holds."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.chaos.figures import Figures

# Sends event `event_id` (its `attempt`-th try) and returns the answer, or None when the connection failed.
Post = Callable[[int, int], Awaitable[httpx.Response | None]]


@dataclass
class Outcomes:
    acked: dict[int, dict[str, Any]] = field(default_factory=dict)  # event id -> the 2xx body
    failed: dict[int, str] = field(default_factory=dict)  # event id -> its last non-2xx answer
    # (sent, answered, status) of every attempt, in event loop time; status 0 for a failed connection
    timeline: list[tuple[float, float, int]] = field(default_factory=list)

    def statuses_sent_between(self, start: float, end: float) -> list[int]:
        """Statuses of the attempts sent at or after `start` and answered before `end`."""
        return [status for sent, answered, status in self.timeline if sent >= start and answered < end]


def event_body(event_id: int) -> dict[str, Any]:
    return {"key": f"e{event_id}", "value": {"id": event_id}}


async def produce(
    post: Post,
    total: int,
    clients: int,
    figures: Figures,
    *,
    until_2xx: bool = False,
    deadline_s: float = 120,
    progress: Callable[[Outcomes], None] = lambda _: None,
    stop: asyncio.Event | None = None,
    gate: Callable[[int], Awaitable[None]] | None = None,
) -> Outcomes:
    """Send events 0..total-1 from `clients` concurrent clients. Each event is tried once, or (`until_2xx`)
    again after every non-2xx answer until it gets a 2xx or `deadline_s` runs out. After a failure a client
    waits 0.5-1 s, as a client that backs off would (so an outage does not burn through all events). Once
    `stop` is set, clients take no new events. `gate(event_id)`, when given, is awaited before an event is first
    sent (a test holds events back for a phase of its faults)."""
    outcomes = Outcomes()
    ids = iter(range(total))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s

    async def client() -> None:
        for event_id in ids:
            if stop is not None and stop.is_set():
                break
            attempt = 0
            if gate is not None:
                await gate(event_id)
            while True:
                sent = loop.time()
                response = await post(event_id, attempt)
                outcomes.timeline.append((sent, loop.time(), 0 if response is None else response.status_code))
                figures.count(response)
                if response is not None and response.is_success:
                    outcomes.acked[event_id] = response.json()
                    outcomes.failed.pop(event_id, None)
                    if len(outcomes.acked) % 1000 == 0:
                        figures.note(f"{len(outcomes.acked)} acknowledged, {len(outcomes.failed)} failing")
                    break
                if response is not None:
                    assert response.headers["content-type"] == "application/problem+json", response.text
                    assert response.json()["request_id"], response.text
                outcomes.failed[event_id] = "connection error" if response is None else str(response.status_code)
                progress(outcomes)
                attempt += 1
                await asyncio.sleep(random.uniform(0.5, 1.0))
                if not until_2xx or loop.time() > deadline:
                    break
            progress(outcomes)

    await asyncio.gather(*(client() for _ in range(clients)))
    figures.acknowledged = len(outcomes.acked)
    figures.logical_requests = len(outcomes.acked) + len(outcomes.failed)
    return outcomes


async def read_topic(bootstrap: str, topic: str, timeout_s: float = 60) -> list[Any]:
    """Every record of `topic`, read with a group-less consumer up to the end offsets of the moment."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        assert tps, f"{topic} has no partitions"
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[Any] = []
        async with asyncio.timeout(timeout_s):
            while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
                for part in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(part)
        return records
    finally:
        await consumer.stop()


@dataclass
class Landed:
    ids: list[int]
    duplicates: int
    lost: list[int]  # acknowledged but not in the topic
    unexplained: list[int]  # in the topic, never acknowledged nor failed (nobody sent them)
    misplaced: list[int]  # acknowledged at another partition/offset than where they are


def landed(records: list[Any], outcomes: Outcomes) -> Landed:
    ids = [orjson.loads(r.value)["id"] for r in records]
    where = {orjson.loads(r.value)["id"]: (r.partition, r.offset) for r in records}
    misplaced = [
        i
        for i, body in outcomes.acked.items()
        if "offset" in body and i in where and where[i] != (body["partition"], body["offset"])
    ]
    return Landed(
        ids=ids,
        duplicates=len(ids) - len(set(ids)),
        lost=sorted(set(outcomes.acked) - set(ids)),
        unexplained=sorted(set(ids) - set(outcomes.acked) - set(outcomes.failed)),
        misplaced=sorted(misplaced),
    )

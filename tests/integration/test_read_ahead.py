"""A member reads its next batch ahead after a full poll: what a client sees and what the group commits must be
exactly as without it. Checked against the topic and the group's commits with plain aiokafka clients."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.integration.conftest import GatewayFactory
from tests.integration.consuming import (
    NewStream,
    close_sessions,
    committed_in_kafka,
    new_group,
    poll,
    produce_json,
    produce_raw,
)

pytestmark = pytest.mark.kafka


def offsets(events: list[dict[str, Any]]) -> list[int]:
    return [event["offset"] for event in events]


async def test_auto_commit_covers_only_what_polls_returned_while_batches_are_read_ahead(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=3)
    await produce_raw(
        kafka_bootstrap, stream, ({"value": orjson.dumps({"seq": i}), "partition": i % 3} for i in range(3000))
    )
    group = new_group()
    received: list[dict[str, Any]] = []
    previous: dict[str, int] | None = None
    params: dict[str, Any] = {"offset": "earliest", "limit": 200, "autoCommit": "true", "timeout": 5000}
    for _ in range(8):
        document = await poll(gateway, stream, group, **params)
        params.pop("offset", None)
        assert len(document["events"]) == 200
        received.extend(document["events"])
        # Each poll commits exactly what the poll before it returned, never a record read ahead since.
        expected = {} if previous is None else {int(p): o for p, o in previous.items()}
        assert await committed_in_kafka(admin, group, stream) == expected
        for partition in (0, 1, 2):
            returned = [e["offset"] for e in received if e["partition"] == partition]
            assert returned == list(range(len(returned)))
            assert document["metadata"]["nextOffsets"][str(partition)] == len(returned)
        previous = document["metadata"]["nextOffsets"]

    # The last poll's batch was never acknowledged: a new member starts exactly there, with no gap.
    assert previous is not None
    assert await close_sessions(gateway, group) == 1
    committed = await committed_in_kafka(admin, group, stream)
    rest: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while len(rest) < 3000 - sum(committed.values()) and time.monotonic() < deadline:
        rest.extend((await poll(gateway, stream, group, limit=500, timeout=1000))["events"])
    for partition in (0, 1, 2):
        again = [e["offset"] for e in rest if e["partition"] == partition]
        assert again == list(range(committed.get(partition, 0), 1000))


async def test_a_poll_with_other_limits_or_a_seek_gets_exactly_what_was_read_ahead(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    await produce_json(kafka_bootstrap, stream, ({"i": i, "pad": "x" * 300} for i in range(100)))
    group = new_group()

    async def polled(**params: Any) -> list[int]:
        return offsets((await poll(gateway, stream, group, timeout=5000, **params))["events"])

    assert await polled(offset="earliest", limit=10) == list(range(10))
    # Fewer events than the batch read ahead holds: the rest is put back, not skipped.
    assert await polled(limit=3) == [10, 11, 12]
    assert await polled(limit=10) == list(range(13, 23))
    # A byte cap (1 KiB holds two of these events), then the same cap again, then none.
    assert await polled(limit=10, maxBytes=1024) == [23, 24]
    assert await polled(limit=10, maxBytes=1024) == [25, 26]
    assert await polled(limit=10) == list(range(27, 37))
    # A seek drops the batch read ahead.
    assert await polled(offset="earliest", limit=5) == [0, 1, 2, 3, 4]
    assert await polled(offset=90, limit=5) == list(range(90, 95))
    assert await polled(limit=50) == list(range(95, 100))
    assert (await poll(gateway, stream, group, limit=50, timeout=200))["events"] == []


async def test_a_rebalance_while_a_batch_is_read_ahead_skips_nothing(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=2)
    await produce_raw(
        kafka_bootstrap, stream, ({"value": orjson.dumps({"seq": i}), "partition": i % 2} for i in range(2000))
    )
    group = new_group()
    first, second = await make_gateway(), await make_gateway()
    params: dict[str, Any] = {"limit": 100, "autoCommit": "true", "timeout": 1000}
    received: list[dict[str, Any]] = []

    async def polled(member: httpx.AsyncClient, **extra: Any) -> None:
        document = await poll(member, stream, group, **params, **extra)
        # Never an event of a partition the member no longer holds (a batch read ahead before the rebalance).
        held = set(document["metadata"]["assignedPartitions"])
        assert {event["partition"] for event in document["events"]} <= held
        received.extend(document["events"])

    # The first member takes both partitions and polls full batches, so it holds one read ahead.
    await polled(first, offset="earliest")
    await polled(first)
    assert len(received) == 200
    # The second member joins: the group rebalances under the batch the first one read ahead.
    await polled(second, offset="earliest")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for member in (first, second):
            await polled(member)
        if await committed_in_kafka(admin, group, stream) == {0: 1000, 1: 1000}:
            break
    assert await committed_in_kafka(admin, group, stream) == {0: 1000, 1: 1000}
    # At least once: a partition that moved starts again from its last commit, so events may repeat; none is
    # missing, and each value is the one produced at its position.
    for partition in (0, 1):
        seen = [e for e in received if e["partition"] == partition]
        assert {e["offset"] for e in seen} == set(range(1000))
        assert all(e["value"] == {"seq": e["offset"] * 2 + partition} for e in seen)

"""Consumer-group polls over HTTP, checked against what a plain aiokafka client sees in the topic and the group."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable
from typing import Any

import httpx
import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.integration.conftest import GatewayFactory, read_all
from tests.integration.consuming import (
    MiB,
    NewStream,
    Position,
    assert_nothing_more,
    close_sessions,
    committed_in_kafka,
    drain,
    group_in_kafka,
    iso_ms,
    new_group,
    poll,
    poll_response,
    positions,
    produce_json,
    produce_raw,
)
from tests.integration.test_errors import assert_problem

pytestmark = pytest.mark.kafka


# --- polls ---------------------------------------------------------------------------------------------------


async def test_first_poll_returns_events_in_the_documented_shape(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    sent = [
        {"key": "user-1", "value": {"n": 1, "tags": ["a"]}, "headers": {"source": "web"}},
        {"key": None, "value": "just a string"},
        {"key": "user-2", "value": [1, 2.5, None], "headers": {"a": "1", "b": "2"}},
    ]
    for event in sent:
        response = await gateway.post(f"/api/v1/streams/{stream}/events", json=event)
        assert response.status_code == 201, response.text
    records = await read_all(kafka_bootstrap, stream, 3)

    group = new_group()
    document = await poll(gateway, stream, group, offset="earliest", timeout=5000)
    events = document["events"]
    assert len(events) == 3
    for event, record, original in zip(events, records, sent, strict=True):
        assert event["eventId"] == f"evt_{record.partition}_{record.offset}"
        assert (event["partition"], event["offset"]) == (record.partition, record.offset)
        assert event["timestamp"] == iso_ms(record.timestamp)
        assert event["key"] == original["key"]
        assert event["value"] == original["value"]
        assert "valueEncoding" not in event
        assert "keyEncoding" not in event
        assert original.get("headers", {}).items() <= event["headers"].items()
    assert document["metadata"] == {
        "consumerGroup": group,
        "lag": 0,
        "nextOffset": 3,
        "nextOffsets": {"0": 3},
        "assignedPartitions": [0],
    }
    # Nothing committed yet, so lag counts from the position; the next poll finds nothing new.
    again = await poll(gateway, stream, group, timeout=200)
    assert again["events"] == []
    assert again["metadata"]["nextOffset"] == 3


async def test_first_poll_defaults_to_latest(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    await produce_json(kafka_bootstrap, stream, ["old-1", "old-2"])
    group = new_group()
    first = await poll(gateway, stream, group, timeout=300)
    assert first["events"] == []
    assert first["metadata"]["nextOffset"] == 2
    await produce_json(kafka_bootstrap, stream, ["new"])
    events = await drain(gateway, stream, group, 1)
    assert [(e["offset"], e["value"]) for e in events] == [(2, "new")]


async def test_two_gateways_in_one_group_see_every_event_exactly_once(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=3)
    group = new_group()
    first, second = await make_gateway(), await make_gateway()
    members = {"first": first, "second": second}

    # Both members join (and the rebalance settles) before anything is produced, so no partition moves mid-test.
    await poll(first, stream, group, offset="earliest", timeout=0)
    await poll(second, stream, group, offset="earliest", timeout=0)
    deadline = time.monotonic() + 30
    while True:
        assigned = {
            name: set((await poll(client, stream, group, timeout=100))["metadata"]["assignedPartitions"])
            for name, client in members.items()
        }
        split = assigned["first"] and assigned["second"] and not assigned["first"] & assigned["second"]
        if split and assigned["first"] | assigned["second"] == {0, 1, 2}:
            break
        assert time.monotonic() < deadline, f"the group never settled: {assigned}"
    state, kafka_members = await group_in_kafka(admin, group)
    assert (state, len(kafka_members)) == ("Stable", 2)

    landed = await produce_raw(
        kafka_bootstrap,
        stream,
        ({"key": f"k{i}".encode(), "value": orjson.dumps({"seq": i}), "partition": i % 3} for i in range(1000)),
    )
    seq_at = {position: seq for seq, position in enumerate(landed)}

    received: dict[str, list[dict[str, Any]]] = {"first": [], "second": []}
    deadline = time.monotonic() + 40
    while sum(map(len, received.values())) < 1000 and time.monotonic() < deadline:
        for name, client in members.items():
            received[name].extend((await poll(client, stream, group, limit=150, timeout=200))["events"])
    for name, client in members.items():
        received[name].extend((await poll(client, stream, group, timeout=300))["events"])

    everything = [position for events in received.values() for position in positions(events)]
    assert len(everything) == 1000
    assert set(everything) == set(landed)
    for name, events in received.items():
        assert events, f"the {name} member received nothing; the partitions were not split"
        for event in events:
            assert event["partition"] in assigned[name]
            assert event["value"] == {"seq": seq_at[(event["partition"], event["offset"])]}
        # Per partition, each member sees offsets in order with no gaps.
        for partition in assigned[name]:
            offsets = [e["offset"] for e in events if e["partition"] == partition]
            assert offsets == list(range(len(offsets)))


async def test_ten_concurrent_polls_on_one_member_lose_and_repeat_nothing(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=3)
    group = new_group()

    def ten_polls(**params: Any) -> Awaitable[list[httpx.Response]]:
        return asyncio.gather(*(poll_response(gateway, stream, group, **params) for _ in range(10)))

    # The first ten arrive together, before any member exists: exactly one is created.
    for response in await ten_polls(timeout=300):
        assert response.status_code == 200, response.text
        assert response.json()["events"] == []
    state, members = await group_in_kafka(admin, group)
    assert (state, len(members)) == ("Stable", 1)

    landed = await produce_json(kafka_bootstrap, stream, range(300))
    seen: list[Position] = []
    deadline = time.monotonic() + 40
    while len(seen) < 300 and time.monotonic() < deadline:
        for response in await ten_polls(limit=10, timeout=500):
            assert response.status_code == 200, response.text
            seen.extend(positions(response.json()["events"]))
    assert len(seen) == len(set(seen)), "an event was returned twice"
    assert set(seen) == set(landed)
    await assert_nothing_more(gateway, stream, group)


async def test_byte_cap_returns_oversized_events_one_at_a_time_and_drops_nothing(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=2, configs={"max.message.bytes": str(4 * MiB)})
    sizes = [1_200_000 if i % 4 == 0 else 300_000 for i in range(10)]
    await produce_raw(
        kafka_bootstrap,
        stream,
        ({"value": orjson.dumps({"i": i, "pad": "x" * size}), "partition": i % 2} for i, size in enumerate(sizes)),
    )
    gateway = await make_gateway(consume_max_bytes=MiB)
    group = new_group()

    def check(events: list[dict[str, Any]]) -> None:
        for event in events:
            assert len(event["value"]["pad"]) == sizes[event["value"]["i"]]
            assert event["partition"] == event["value"]["i"] % 2

    # Default cap (the 1 MiB setting): each response fits the cap unless it carries a single larger event.
    received: list[dict[str, Any]] = []
    params: dict[str, Any] = {"offset": "earliest", "timeout": 2000}
    deadline = time.monotonic() + 30
    while len(received) < 10 and time.monotonic() < deadline:
        response = await poll_response(gateway, stream, group, **params)
        params.pop("offset", None)
        assert response.status_code == 200, response.text
        events = response.json()["events"]
        # A little slack for the envelope (metadata) around the events.
        assert len(events) == 1 or len(response.content) <= MiB + 4096, (len(events), len(response.content))
        check(events)
        received.extend(events)
    assert sorted(e["value"]["i"] for e in received) == list(range(10))
    for partition in (0, 1):
        assert [e["offset"] for e in received if e["partition"] == partition] == list(range(5))

    # A cap below any event's size: every poll returns exactly one event, and every event still comes once.
    again: list[dict[str, Any]] = []
    params = {"offset": "earliest", "maxBytes": 1024, "timeout": 2000}
    for _ in range(10):
        events = (await poll(gateway, stream, group, **params))["events"]
        params.pop("offset", None)
        assert len(events) == 1
        check(events)
        again.extend(events)
    assert sorted(e["value"]["i"] for e in again) == list(range(10))
    await assert_nothing_more(gateway, stream, group)


async def test_long_poll_on_an_empty_stream_waits_for_the_timeout(
    gateway: httpx.AsyncClient, new_stream: NewStream
) -> None:
    stream = await new_stream(partitions=1)
    group = new_group()
    await poll(gateway, stream, group, offset="earliest", timeout=0)
    started = time.monotonic()
    document = await poll(gateway, stream, group, timeout=1500)
    elapsed = time.monotonic() - started
    assert document["events"] == []
    assert elapsed >= 1.5 * 0.8


async def test_produce_during_a_long_poll_wakes_it_early(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    group = new_group()
    await poll(gateway, stream, group, offset="earliest", timeout=0)
    started = time.monotonic()
    waiting = asyncio.create_task(poll(gateway, stream, group, timeout=10_000))
    await asyncio.sleep(0.5)
    assert not waiting.done(), "the poll returned before anything was produced"
    (landed,) = await produce_json(kafka_bootstrap, stream, [{"wake": True}])
    document = await waiting
    elapsed = time.monotonic() - started
    assert positions(document["events"]) == [landed]
    assert document["events"][0]["value"] == {"wake": True}
    assert elapsed < 9, "the poll was not woken by the produce"


async def test_explicit_offset_seeks_every_partition_and_out_of_range_is_400(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=3)
    for partition in range(3):
        await produce_json(kafka_bootstrap, stream, range(5), partition=partition)
    group = new_group()
    events = await drain(gateway, stream, group, 15, offset="earliest")
    assert sorted(positions(events)) == [(p, o) for p in range(3) for o in range(5)]
    metadata = (await poll(gateway, stream, group, timeout=100))["metadata"]
    assert metadata["nextOffset"] is None  # only meaningful for a single partition
    assert metadata["nextOffsets"] == {"0": 5, "1": 5, "2": 5}
    assert metadata["assignedPartitions"] == [0, 1, 2]
    assert metadata["lag"] == 0

    events = await drain(gateway, stream, group, 9, offset=2)
    assert sorted(positions(events)) == [(p, o) for p in range(3) for o in range(2, 5)]
    await assert_nothing_more(gateway, stream, group)

    response = await poll_response(gateway, stream, group, offset=6, timeout=100)
    assert_problem(response, 400, 1002, "INVALID_OFFSET")

    assert (await poll(gateway, stream, group, offset="latest", timeout=100))["events"] == []
    (landed,) = await produce_json(kafka_bootstrap, stream, ["after-latest"], partition=1)
    assert positions(await drain(gateway, stream, group, 1)) == [landed]


async def test_poll_parameter_errors(gateway: httpx.AsyncClient, new_stream: NewStream) -> None:
    stream = await new_stream(partitions=1)
    response = await gateway.get(f"/api/v1/streams/{stream}/events", params={"timeout": 0})
    body = assert_problem(response, 422, 1007, "VALIDATION_ERROR")
    assert [e["field"] for e in body["errors"]] == ["consumerGroup"]
    for limit in (0, 10_001):
        response = await poll_response(gateway, stream, new_group(), limit=limit, timeout=0)
        assert_problem(response, 422, 1007, "VALIDATION_ERROR")
    response = await poll_response(gateway, "no-such-stream", new_group(), timeout=0)
    body = assert_problem(response, 404, 1001, "STREAM_NOT_FOUND")
    assert body["retriable"] is False


async def test_non_json_values_and_binary_keys_come_back_as_base64_and_polling_goes_on(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    poison = b"\xff\x00\x01 not json"
    await produce_raw(
        kafka_bootstrap,
        stream,
        [
            {"key": b"k1", "value": b'{"a": 1}'},
            {"key": b"\xff\xfe", "value": poison},
            {"key": b"k3", "value": b"plain text"},
            {"value": b"[1, 2]"},
        ],
    )
    group = new_group()
    json_first, binary, text, json_last = await drain(gateway, stream, group, 4, offset="earliest")
    assert (json_first["key"], json_first["value"]) == ("k1", {"a": 1})
    assert "valueEncoding" not in json_first
    assert binary["valueEncoding"] == "base64"
    assert base64.b64decode(binary["value"]) == poison
    assert binary["keyEncoding"] == "base64"
    assert base64.b64decode(binary["key"]) == b"\xff\xfe"
    assert text["valueEncoding"] == "base64"
    assert base64.b64decode(text["value"]) == b"plain text"
    assert text["key"] == "k3"
    assert "keyEncoding" not in text
    assert (json_last["key"], json_last["value"]) == (None, [1, 2])
    assert "valueEncoding" not in json_last

    (landed,) = await produce_json(kafka_bootstrap, stream, [{"after": "poison"}])
    (event,) = await drain(gateway, stream, group, 1)
    assert (event["partition"], event["offset"], event["value"]) == (*landed, {"after": "poison"})


async def test_auto_commit_commits_what_a_poll_returned_when_the_next_poll_arrives(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=1)
    await produce_json(kafka_bootstrap, stream, range(10))
    group = new_group()
    first = (await poll(gateway, stream, group, offset="earliest", limit=4, autoCommit="true", timeout=5000))["events"]
    assert 1 <= len(first) <= 4
    assert await committed_in_kafka(admin, group, stream) == {}, "committed before the next poll arrived"

    second = (await poll(gateway, stream, group, limit=4, autoCommit="true", timeout=5000))["events"]
    first_end = first[-1]["offset"] + 1
    assert second, "the second poll returned nothing"
    assert second[0]["offset"] == first_end
    assert await committed_in_kafka(admin, group, stream) == {0: first_end}

    # The second batch was never acknowledged by a further poll: a new member gets it again.
    assert await close_sessions(gateway, group) == 1
    redelivered = await drain(gateway, stream, group, len(second), limit=len(second))
    assert positions(redelivered) == positions(second)


async def test_idle_member_leaves_the_group(
    make_gateway: GatewayFactory, new_stream: NewStream, admin: AIOKafkaAdminClient
) -> None:
    gateway = await make_gateway(consumer_idle_timeout_ms=1000)
    stream = await new_stream(partitions=1)
    group = new_group()
    await poll(gateway, stream, group, offset="earliest", timeout=0)
    state, members = await group_in_kafka(admin, group)
    assert (state, len(members)) == ("Stable", 1)

    deadline = time.monotonic() + 15
    while members and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        state, members = await group_in_kafka(admin, group)
    assert (state, members) == ("Empty", [])
    # A later poll simply creates a new member.
    await poll(gateway, stream, group, timeout=0)
    state, members = await group_in_kafka(admin, group)
    assert (state, len(members)) == ("Stable", 1)


async def test_members_past_the_bound_are_refused_with_429(make_gateway: GatewayFactory, new_stream: NewStream) -> None:
    gateway = await make_gateway(consumer_max_members=1)
    stream = await new_stream(partitions=1)
    held, refused = new_group(), new_group()
    await poll(gateway, stream, held, timeout=0)

    response = await poll_response(gateway, stream, refused, timeout=0)
    body = assert_problem(response, 429, 1005, "QUOTA_EXCEEDED")
    assert body["retriable"] is True
    assert int(response.headers["retry-after"]) > 0
    # The member that exists keeps working; closing it frees the slot.
    await poll(gateway, stream, held, timeout=0)
    assert await close_sessions(gateway, held) == 1
    await poll(gateway, stream, refused, timeout=0)

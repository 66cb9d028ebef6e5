"""Commits and consumer-group administration, checked against the group as a plain aiokafka admin client sees it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.integration.conftest import GatewayFactory
from tests.integration.consuming import (
    assert_nothing_more,
    close_sessions,
    committed_in_kafka,
    drain,
    group_in_kafka,
    new_group,
    poll,
    positions,
    produce_json,
    produce_raw,
)
from tests.integration.test_errors import assert_problem

pytestmark = pytest.mark.kafka

NewStream = Callable[..., Awaitable[str]]


async def commit(gateway: httpx.AsyncClient, group: str, offsets: list[dict[str, Any]]) -> httpx.Response:
    return await gateway.post(f"/api/v1/consumers/{group}/commit", json={"offsets": offsets})


async def reset(gateway: httpx.AsyncClient, group: str, **body: Any) -> httpx.Response:
    return await gateway.post(f"/api/v1/consumers/{group}/reset", json=body)


async def group_that_read_and_committed_three(gateway: httpx.AsyncClient, bootstrap: str, stream: str) -> str:
    """A new group whose member (held by `gateway`) read three events of partition 0 and committed them."""
    await produce_json(bootstrap, stream, range(3))
    group = new_group()
    await drain(gateway, stream, group, 3, offset="earliest")
    assert (await commit(gateway, group, [{"stream": stream, "partition": 0, "offset": 3}])).status_code == 200
    return group


async def test_commit_then_restart_resumes_exactly_after_the_commit(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=2)
    for partition in (0, 1):
        await produce_json(kafka_bootstrap, stream, range(10), partition=partition)
    group = new_group()
    first = await make_gateway()
    events = await drain(first, stream, group, 20, offset="earliest")
    assert sorted(positions(events)) == [(p, o) for p in (0, 1) for o in range(10)]

    # Processed partition 0 up to offset 3 and partition 1 up to 6: commit the next offsets to read.
    offsets = [{"stream": stream, "partition": 0, "offset": 4}, {"stream": stream, "partition": 1, "offset": 7}]
    response = await commit(first, group, offsets)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "committed", "committedOffsets": offsets}
    assert await committed_in_kafka(admin, group, stream) == {0: 4, 1: 7}

    assert await close_sessions(first, group) == 1
    state, members = await group_in_kafka(admin, group)
    assert (state, members) == ("Empty", [])

    # A fresh gateway stands in for a restarted one; its new member starts from the commits.
    second = await make_gateway()
    resumed = await drain(second, stream, group, 9)
    assert sorted(positions(resumed)) == [(0, o) for o in range(4, 10)] + [(1, o) for o in range(7, 10)]
    await assert_nothing_more(second, stream, group)


async def test_without_a_commit_the_events_come_again(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=1)
    landed = await produce_json(kafka_bootstrap, stream, range(10))
    group = new_group()
    assert positions(await drain(gateway, stream, group, 10, offset="earliest")) == landed
    assert await close_sessions(gateway, group) == 1
    # Neither polling nor closing committed anything behind the client's back.
    assert await committed_in_kafka(admin, group, stream) == {}
    assert positions(await drain(gateway, stream, group, 10, offset="earliest")) == landed


async def test_commit_to_a_group_without_active_members_goes_straight_to_kafka(
    make_gateway: GatewayFactory, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=1)
    await produce_json(kafka_bootstrap, stream, range(6))
    group = new_group()
    first = await make_gateway()
    await drain(first, stream, group, 6, offset="earliest")
    assert await close_sessions(first, group) == 1

    other = await make_gateway()  # holds no member of the group
    offsets = [{"stream": stream, "partition": 0, "offset": 3}]
    response = await commit(other, group, offsets)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "committed", "committedOffsets": offsets}
    assert await committed_in_kafka(admin, group, stream) == {0: 3}
    assert positions(await drain(other, stream, group, 3)) == [(0, 3), (0, 4), (0, 5)]


async def test_commit_errors(gateway: httpx.AsyncClient, new_stream: NewStream, admin: AIOKafkaAdminClient) -> None:
    stream = await new_stream(partitions=1)
    unknown = new_group()
    response = await commit(gateway, unknown, [{"stream": stream, "partition": 0, "offset": 0}])
    assert_problem(response, 404, 1003, "CONSUMER_GROUP_NOT_FOUND")

    group = new_group()
    await poll(gateway, stream, group, timeout=0)
    response = await commit(gateway, group, [{"stream": "no-such-stream", "partition": 0, "offset": 0}])
    assert_problem(response, 404, 1001, "STREAM_NOT_FOUND")
    response = await commit(gateway, group, [{"stream": stream, "partition": 7, "offset": 0}])
    assert_problem(response, 404, 1002, "INVALID_OFFSET")
    assert await committed_in_kafka(admin, group, stream) == {}


async def test_lag_before_and_after_commit(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    await produce_json(kafka_bootstrap, stream, range(10))
    group = new_group()

    document = await poll(gateway, stream, group, offset="earliest", limit=4, timeout=5000)
    position = document["events"][-1]["offset"] + 1
    # Nothing committed: lag counts from the member's position.
    assert document["metadata"]["lag"] == 10 - position
    assert document["metadata"]["nextOffset"] == position

    response = await commit(gateway, group, [{"stream": stream, "partition": 0, "offset": position}])
    assert response.status_code == 200, response.text
    described = (await gateway.get(f"/api/v1/consumers/{group}")).json()
    assert described["offsets"] == [
        {"stream": stream, "partition": 0, "committedOffset": position, "endOffset": 10, "lag": 10 - position}
    ]
    assert described["lag"] == 10 - position

    # Read further without committing: lag still counts from the commit.
    document = await poll(gateway, stream, group, limit=4, timeout=5000)
    assert document["events"], "the second poll returned nothing"
    read_up_to = document["events"][-1]["offset"] + 1
    assert document["metadata"]["lag"] == 10 - position

    response = await commit(gateway, group, [{"stream": stream, "partition": 0, "offset": read_up_to}])
    assert response.status_code == 200, response.text
    document = await poll(gateway, stream, group, limit=100, timeout=5000)
    assert document["metadata"]["lag"] == 10 - read_up_to
    response = await commit(gateway, group, [{"stream": stream, "partition": 0, "offset": 10}])
    assert response.status_code == 200, response.text
    document = await poll(gateway, stream, group, timeout=200)
    assert (document["events"], document["metadata"]["lag"]) == ([], 0)
    assert (await gateway.get(f"/api/v1/consumers/{group}")).json()["lag"] == 0


async def test_describe_and_list_groups(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=3)
    for partition in range(3):
        await produce_json(kafka_bootstrap, stream, range(4), partition=partition)
    group = new_group()
    await drain(gateway, stream, group, 12, offset="earliest")
    committed = [
        {"stream": stream, "partition": 0, "offset": 4},
        {"stream": stream, "partition": 1, "offset": 2},
        {"stream": stream, "partition": 2, "offset": 1},
    ]
    assert (await commit(gateway, group, committed)).status_code == 200

    response = await gateway.get(f"/api/v1/consumers/{group}")
    assert response.status_code == 200, response.text
    described = response.json()
    assert (described["groupId"], described["state"]) == (group, "Stable")
    (member,) = described["members"]
    _, (kafka_member,) = await group_in_kafka(admin, group)
    assert member["memberId"] == kafka_member["member_id"]
    assert member["clientId"] == kafka_member["client_id"]
    assert member["host"] == kafka_member["client_host"]
    assert sorted(member["assignments"], key=lambda a: a["partition"]) == [
        {"stream": stream, "partition": p} for p in range(3)
    ]
    by_partition = {o["partition"]: o for o in described["offsets"]}
    assert by_partition == {
        0: {"stream": stream, "partition": 0, "committedOffset": 4, "endOffset": 4, "lag": 0},
        1: {"stream": stream, "partition": 1, "committedOffset": 2, "endOffset": 4, "lag": 2},
        2: {"stream": stream, "partition": 2, "committedOffset": 1, "endOffset": 4, "lag": 3},
    }
    assert described["lag"] == 5

    listed = {g["groupId"]: g for g in (await gateway.get("/api/v1/consumers")).json()["consumerGroups"]}
    assert listed[group]["state"] == "Stable"

    assert await close_sessions(gateway, group) == 1
    described = (await gateway.get(f"/api/v1/consumers/{group}")).json()
    assert (described["state"], described["members"], described["lag"]) == ("Empty", [], 5)
    listed = {g["groupId"]: g for g in (await gateway.get("/api/v1/consumers")).json()["consumerGroups"]}
    assert listed[group]["state"] == "Empty"

    assert_problem(await gateway.get(f"/api/v1/consumers/{new_group()}"), 404, 1003, "CONSUMER_GROUP_NOT_FOUND")


async def test_a_group_is_described_without_the_offsets_of_a_deleted_stream(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    """Found by schemathesis: until Kafka drops a deleted topic's offsets from its groups (soon after the deletion,
    later on a busy broker), describing such a group waited for the topic's offsets until the request timed out
    (504). The stream is deleted outside this gateway, as another gateway or Kafka's own tools would."""
    kept, gone = await new_stream(partitions=1), await new_stream(partitions=2)
    group = await group_that_read_and_committed_three(gateway, kafka_bootstrap, kept)
    assert await close_sessions(gateway, group) == 1
    assert (await commit(gateway, group, [{"stream": gone, "partition": 1, "offset": 0}])).status_code == 200
    await admin.delete_topics([gone])

    started = time.monotonic()
    response = await gateway.get(f"/api/v1/consumers/{group}")
    assert response.status_code == 200, (response.text, time.monotonic() - started)
    described = response.json()
    assert described["offsets"] == [{"stream": kept, "partition": 0, "committedOffset": 3, "endOffset": 3, "lag": 0}]
    assert described["lag"] == 0


async def test_reset_an_inactive_group(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=2, configs={"retention.ms": "-1"})
    base_ms = (int(time.time()) - 600) * 1000
    # Partition 0 at base+0s..4s, partition 1 at base+0.5s..4.5s.
    await produce_raw(
        kafka_bootstrap,
        stream,
        (
            {"value": str(i).encode(), "partition": partition, "timestamp_ms": base_ms + partition * 500 + i * 1000}
            for partition in (0, 1)
            for i in range(5)
        ),
    )
    group = new_group()
    await drain(gateway, stream, group, 10, offset="earliest")
    offsets = [{"stream": stream, "partition": p, "offset": 5} for p in (0, 1)]
    assert (await commit(gateway, group, offsets)).status_code == 200
    assert await close_sessions(gateway, group) == 1

    async def reset_to(expected: dict[int, int], **body: Any) -> None:
        response = await reset(gateway, group, stream=stream, **body)
        assert response.status_code == 200, response.text
        document = response.json()
        assert document["status"] == "reset"
        assert document["offsets"] == [{"stream": stream, "partition": p, "offset": o} for p, o in expected.items()]
        assert await committed_in_kafka(admin, group, stream) == expected

    await reset_to({0: 0, 1: 0}, to="earliest")
    await reset_to({0: 5, 1: 5}, to="latest")
    await reset_to({0: 3, 1: 3}, to="offset", offset=3)
    await reset_to({0: 3, 1: 2}, to="timestamp", timestamp=base_ms + 2500)

    # The next member starts where the reset put the group.
    resumed = await drain(gateway, stream, group, 5)
    assert sorted(positions(resumed)) == [(0, 3), (0, 4), (1, 2), (1, 3), (1, 4)]


async def test_reset_and_delete_are_refused_while_the_group_is_active(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=1)
    group = await group_that_read_and_committed_three(gateway, kafka_bootstrap, stream)

    response = await reset(gateway, group, stream=stream, to="earliest")
    assert_problem(response, 409, 1020, "CONSUMER_GROUP_ACTIVE")
    assert_problem(await gateway.delete(f"/api/v1/consumers/{group}"), 409, 1020, "CONSUMER_GROUP_ACTIVE")
    assert await committed_in_kafka(admin, group, stream) == {0: 3}
    state, members = await group_in_kafka(admin, group)
    assert (state, len(members)) == ("Stable", 1)


async def test_delete_an_inactive_group(
    gateway: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=1)
    group = await group_that_read_and_committed_three(gateway, kafka_bootstrap, stream)
    assert await close_sessions(gateway, group) == 1

    response = await gateway.delete(f"/api/v1/consumers/{group}")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "deleted", "groupId": group}
    assert group not in {g[0] for g in await admin.list_consumer_groups()}
    assert await committed_in_kafka(admin, group, stream) == {}
    assert_problem(await gateway.get(f"/api/v1/consumers/{group}"), 404, 1003, "CONSUMER_GROUP_NOT_FOUND")
    assert_problem(await gateway.delete(f"/api/v1/consumers/{group}"), 404, 1003, "CONSUMER_GROUP_NOT_FOUND")


async def test_close_sessions_makes_this_gateways_members_leave(
    gateway: httpx.AsyncClient, new_stream: NewStream, admin: AIOKafkaAdminClient
) -> None:
    streams = [await new_stream(partitions=1), await new_stream(partitions=2)]
    group = new_group()
    for stream in streams:
        await poll(gateway, stream, group, timeout=0)
    state, members = await group_in_kafka(admin, group)
    assert (state, len(members)) == ("Stable", 2)

    closed = await gateway.delete(f"/api/v1/consumers/{group}/sessions")
    assert (closed.json()["closedSessions"], closed.json()["streams"]) == (2, sorted(streams))
    state, members = await group_in_kafka(admin, group)
    assert (state, members) == ("Empty", [])
    again = await gateway.delete(f"/api/v1/consumers/{group}/sessions")
    assert (again.json()["closedSessions"], again.json()["streams"]) == (0, [])

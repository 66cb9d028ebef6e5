"""Push consume (Server-Sent Events) against a real `kafkagate serve` on the real broker, read by a streaming httpx
client; records are written by a plain aiokafka producer, whose acknowledgements say where each one landed."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import ROOT_TOKEN
from tests.integration.consuming import (
    NewStream,
    Position,
    committed_in_kafka,
    group_in_kafka,
    new_group,
    poll,
    poll_response,
    produce_json,
    produce_raw,
)
from tests.integration.event_streams import SSE, Comment, Event, read_sse, until_connected
from tests.integration.serving import served_gateway, tail, wait_exit, wait_ready

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

HEARTBEAT_S = 0.3
BUFFER_EVENTS = 50
EVENTS = "/api/v1/streams/{stream}/events"
ROOT = {"authorization": f"Bearer {ROOT_TOKEN}"}


@pytest.fixture(scope="module")
async def base_url(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    log_path = tmp_path_factory.mktemp("push") / "gateway.log"
    env = {
        "KAFKAGATE_AUTH": "required",
        "KAFKAGATE_ADMIN_TOKEN": ROOT_TOKEN,
        "KAFKAGATE_SSE_HEARTBEAT_S": str(HEARTBEAT_S),
        "KAFKAGATE_SSE_BUFFER_EVENTS": str(BUFFER_EVENTS),
        "KAFKAGATE_SSE_BUFFER_BYTES": str(256 * 1024),
        "KAFKAGATE_ACCESS_LOG": "false",
    }
    with served_gateway(kafka_bootstrap, log_path, env) as (process, url):
        await wait_ready(process, url, log_path)
        yield url
        assert process.poll() is None, tail(log_path)


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=ROOT) as http:
        yield http


def events_url(stream: str) -> str:
    return EVENTS.format(stream=stream)


async def metrics(client: httpx.AsyncClient) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def take(reader: AsyncIterator[Comment | Event], count: int) -> list[Event]:
    got: list[Event] = []
    async for item in reader:
        if isinstance(item, Event):
            got.append(item)
            if len(got) == count:
                break
    return got


async def test_events_arrive_live_as_poll_documents_with_their_event_ids(
    client: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=2)
    group = new_group()
    params = {"consumerGroup": group, "offset": "earliest"}
    pretty = b'{\n  "multi": [1,\n    2],\n  "line": "yes"\n}'
    async with client.stream("GET", events_url(stream), params=params, headers=SSE) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        reader = read_sse(response)
        await until_connected(reader)
        # Produced only now: they can only arrive by being pushed.
        landed = await produce_raw(
            kafka_bootstrap,
            stream,
            [
                {"value": b'{"n":1}', "key": b"a", "partition": 0},
                {"value": pretty, "partition": 1, "headers": [("h", b"v")]},
                {"value": b"\xff\x00 not json", "partition": 0},
            ],
        )
        received: list[Event] = []
        async for item in reader:
            if isinstance(item, Event):
                received.append(item)
                if len(received) == len(landed):
                    break
    assert sorted((e.document["partition"], e.document["offset"]) for e in received) == sorted(landed)
    for event in received:
        assert event.name == "message"
        assert event.id == event.document["eventId"] == f"evt_{event.document['partition']}_{event.document['offset']}"
    by_id = {e.id: e.document for e in received}
    assert by_id[f"evt_1_{landed[1][1]}"]["value"] == {"multi": [1, 2], "line": "yes"}
    assert by_id[f"evt_0_{landed[2][1]}"]["valueEncoding"] == "base64"
    # The same documents a poll returns for the same records.
    polled = (await poll(client, stream, new_group(), offset="earliest", timeout=3000))["events"]
    assert {e["eventId"]: e for e in polled} == by_id


async def test_heartbeats_keep_an_idle_stream_alive(client: httpx.AsyncClient, new_stream: NewStream) -> None:
    stream = await new_stream(partitions=1)
    params = {"consumerGroup": new_group()}
    beats = 0
    async with client.stream("GET", events_url(stream), params=params, headers=SSE) as response:
        reader = read_sse(response)
        await until_connected(reader)
        async for item in reader:
            assert item == Comment("heartbeat")
            beats += 1
            if beats == 3:
                break


async def read_events(
    client: httpx.AsyncClient, url: str, params: dict[str, str], *, last_id: str | None, stop_after: int
) -> list[dict[str, Any]]:
    """Connect (resuming after `last_id`), take `stop_after` events, then drop the connection abruptly: whatever
    the gateway already wrote beyond them is lost on the client's side."""
    headers = {**SSE, **({"last-event-id": last_id} if last_id else {})}
    got: list[dict[str, Any]] = []
    async with client.stream("GET", url, params=params, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        async for item in read_sse(response):
            if isinstance(item, Event):
                assert item.id == item.document["eventId"]
                got.append(item.document)
                if len(got) == stop_after:
                    break
    return got


async def test_reconnects_with_last_event_id_under_load_deliver_each_event_once_in_order(
    client: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=3)
    group = new_group()
    total, chunk = 2000, 50
    landed: list[Position] = []

    async def produce() -> None:
        for start in range(0, total, chunk):
            landed.extend(await produce_json(kafka_bootstrap, stream, ({"n": n} for n in range(start, start + chunk))))
            await asyncio.sleep(0.02)

    producing = asyncio.create_task(produce())
    url, params = events_url(stream), {"consumerGroup": group, "offset": "earliest"}
    received: list[dict[str, Any]] = []
    last_id: str | None = None
    for stop_after in (300, 400, 500):  # three reconnects while the producer is still writing
        part = await read_events(client, url, params, last_id=last_id, stop_after=stop_after)
        received += part
        last_id = part[-1]["eventId"]
    received += await read_events(client, url, params, last_id=last_id, stop_after=total - len(received))
    await producing
    assert not producing.exception()

    positions = [(e["partition"], e["offset"]) for e in received]
    assert len(positions) == len(set(positions)), "an event arrived twice"
    assert sorted(positions) == sorted(landed), "an event is missing"
    by_partition: dict[int, list[int]] = defaultdict(list)
    for partition, offset in positions:
        by_partition[partition].append(offset)
    for offsets in by_partition.values():
        assert offsets == sorted(offsets), "a partition's events arrived out of order"
    assert {orjson.loads(orjson.dumps(e["value"]))["n"] for e in received} == set(range(total))

    # Resuming after the last one sends nothing more, and the group's commits say everything was seen.
    headers = {**SSE, "last-event-id": received[-1]["eventId"]}
    async with client.stream("GET", url, params=params, headers=headers) as response:
        reader = read_sse(response)
        await until_connected(reader)
        async for item in reader:
            assert item == Comment("heartbeat"), item
            break
    ends: dict[int, int] = defaultdict(int)
    for partition, offset in landed:
        ends[partition] = max(ends[partition], offset + 1)
    assert await committed_in_kafka(admin, group, stream) == dict(ends)


async def test_explicit_commits_go_through_the_stream_member_and_polls_are_refused(
    client: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    stream = await new_stream(partitions=1)
    group = new_group()
    landed = await produce_json(kafka_bootstrap, stream, ({"n": n} for n in range(10)), partition=0)
    url, params = events_url(stream), {"consumerGroup": group, "offset": "earliest"}
    async with client.stream("GET", url, params=params, headers=SSE) as response:
        # Held in a name: a reader dropped mid-stream is finalized, and closing it closes the connection.
        reader = read_sse(response)
        received = [event.document for event in await take(reader, 10)]
        assert [e["offset"] for e in received] == [o for _, o in landed]
        body = {"offsets": [{"stream": stream, "partition": 0, "offset": received[5]["offset"] + 1}]}
        committed = await client.post(f"/api/v1/consumers/{group}/commit", json=body)
        assert committed.status_code == 200, committed.text
        assert await committed_in_kafka(admin, group, stream) == {0: received[5]["offset"] + 1}
        refused = await poll_response(client, stream, group, timeout=0)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    # Without Last-Event-ID, a new connection starts from the commit.
    again = await read_events(client, url, {"consumerGroup": group}, last_id=None, stop_after=1)
    assert again[0]["offset"] == received[6]["offset"]


async def test_closing_the_groups_sessions_ends_the_stream_with_a_problem_event(
    client: httpx.AsyncClient, new_stream: NewStream
) -> None:
    stream = await new_stream(partitions=1)
    group = new_group()
    async with client.stream("GET", events_url(stream), params={"consumerGroup": group}, headers=SSE) as response:
        reader = read_sse(response)
        await until_connected(reader)
        closed = await client.delete(f"/api/v1/consumers/{group}/sessions")
        assert closed.json()["closedSessions"] == 1
        rest = [item async for item in reader if isinstance(item, Event)]
    assert [(e.name, e.document["error"], e.document["status"]) for e in rest] == [("problem", "CONFLICT", 409)]
    assert rest[0].document["request_id"] == response.headers["x-request-id"]


async def test_a_paused_reader_holds_at_most_one_batch_in_the_gateway(
    base_url: str, client: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=2)
    # 8 MiB: twice what the gateway's socket send buffer can grow to (net.ipv4.tcp_wmem's 4 MiB maximum), with a
    # client receive buffer fixed at 64 KiB (so the kernel does not grow it while the client reads nothing).
    total, size = 1000, 8 * 1024
    filler = "x" * size
    await produce_json(kafka_bootstrap, stream, ({"n": n, "pad": filler} for n in range(total)))
    transport = httpx.AsyncHTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)])
    async with httpx.AsyncClient(base_url=base_url, timeout=60, transport=transport, headers=ROOT) as slow:
        params = {"consumerGroup": new_group(), "offset": "earliest"}
        async with slow.stream("GET", events_url(stream), params=params, headers=SSE) as response:
            reader = read_sse(response)
            first = await take(reader, 1)
            # Paused. Wait (bounded) until the gateway's write is blocked on this client and it stopped reading.
            steady, written = 0, -1.0
            for _ in range(300):
                sampled = await metrics(client)
                now = sampled.get("kafkagate_consumed_events_total", {}).get((("stream", stream),), 0.0)
                blocked = sampled["kafkagate_sse_blocked_writes"][()] >= 1
                steady = steady + 1 if blocked and now == written else 0
                written = now
                if steady == 5:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"the gateway never settled on the paused client ({written} events written)")
            buffered = sampled["kafkagate_sse_buffered_events"][()]
            assert 0 < buffered <= BUFFER_EVENTS
            assert written < total - BUFFER_EVENTS, "the gateway read on from Kafka while the client was paused"
            rest = await take(reader, total - 1)
    got = [e.document["value"]["n"] for e in first + rest]
    assert sorted(got) == list(range(total))


async def test_without_the_event_stream_accept_header_the_route_polls(
    client: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    await produce_json(kafka_bootstrap, stream, [{"n": 1}], partition=0)
    for accept in ("application/json", "*/*", "application/json, text/event-stream;q=0.5"):
        response = await client.get(
            events_url(stream),
            params={"consumerGroup": new_group(), "offset": "earliest", "timeout": 3000},
            headers={"accept": accept},
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.headers["vary"] == "accept"
        assert [e["value"] for e in response.json()["events"]] == [{"n": 1}]


async def test_a_bad_last_event_id_is_a_problem_document(client: httpx.AsyncClient, new_stream: NewStream) -> None:
    stream = await new_stream(partitions=1)
    for bad in ("nope", "evt_5_0", "evt_0_99"):
        response = await client.get(
            events_url(stream), params={"consumerGroup": new_group()}, headers={**SSE, "last-event-id": bad}
        )
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["error"] == "INVALID_OFFSET"


def bearer(token: str | None) -> dict[str, str]:
    return {**SSE, **({"authorization": f"Bearer {token}"} if token is not None else {"authorization": ""})}


async def new_key(client: httpx.AsyncClient, **spec: Any) -> str:
    body = {"name": f"key-{new_group()}", "scopes": ["produce", "consume", "processors", "admin"], **spec}
    made = await client.post("/api/v1/keys", json=body)
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


async def test_auth_scopes_and_tenancy_apply_as_for_polls(
    client: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    params = {"consumerGroup": new_group()}
    produce_only = await new_key(client, scopes=["produce"])
    elsewhere = await new_key(client, scopes=["consume"], streams=["other-*"])
    slug = f"t{new_group()[2:]}"
    tenant = await client.post("/api/v1/tenants", json={"slug": slug, "name": slug})
    assert tenant.status_code == 201, tenant.text
    tenant_token = await new_key(client, tenant=slug)
    cases = [
        (bearer(None), stream, 401, "UNAUTHORIZED"),
        (bearer("kg_not_a_key_" + "x" * 40), stream, 401, "UNAUTHORIZED"),
        (bearer(produce_only), stream, 403, "FORBIDDEN"),
        (bearer(elsewhere), stream, 403, "FORBIDDEN"),
        (bearer(ROOT_TOKEN), "no-such-stream", 404, "STREAM_NOT_FOUND"),
        (bearer(tenant_token), stream, 404, "STREAM_NOT_FOUND"),  # an untenanted stream is not the tenant's
    ]
    for headers, name, status, error in cases:
        response = await client.get(events_url(name), params=params, headers=headers)
        assert response.status_code == status, (error, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        document = response.json()
        assert document["error"] == error
        assert document["request_id"] == response.headers["x-request-id"]

    # The tenant's own stream is the topic of its namespace, and streams to it.
    as_tenant = bearer(tenant_token)
    created = await client.post("/api/v1/streams", json={"name": "orders", "partitions": 1}, headers=as_tenant)
    assert created.status_code == 201, created.text
    topic = f"_t.{slug}.orders"
    async with client.stream("GET", events_url("orders"), params=params, headers=bearer(tenant_token)) as response:
        assert response.status_code == 200, await response.aread()
        reader = read_sse(response)
        await until_connected(reader)
        [(partition, offset)] = await produce_json(kafka_bootstrap, topic, [{"tenant": slug}], partition=0)
        (event,) = await take(reader, 1)
    assert event.id == f"evt_{partition}_{offset}"
    assert event.document["value"] == {"tenant": slug}


async def test_a_second_connection_of_a_group_takes_over_from_the_first(
    client: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    stream = await new_stream(partitions=1)
    url, params = events_url(stream), {"consumerGroup": new_group(), "offset": "earliest"}
    await produce_json(kafka_bootstrap, stream, ({"n": n} for n in range(4)), partition=0)
    async with client.stream("GET", url, params=params, headers=SSE) as first:
        first_reader = read_sse(first)
        seen = await take(first_reader, 2)
        headers = {**SSE, "last-event-id": seen[-1].id or ""}
        async with client.stream("GET", url, params=params, headers=headers) as second:
            second_reader = read_sse(second)
            # The first stream ends without an error event; the second resumes after what the first delivered.
            leftover = [item async for item in first_reader if isinstance(item, Event)]
            assert all(e.name == "message" for e in leftover)
            resumed = await take(second_reader, 2)
    assert [e.document["offset"] for e in resumed] == [seen[-1].document["offset"] + 1, seen[-1].document["offset"] + 2]


async def test_sigterm_ends_event_streams_at_once_and_the_gateway_exits_zero(
    new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient, tmp_path: Path
) -> None:
    stream = await new_stream(partitions=1)
    group = new_group()
    log_path = tmp_path / "gateway.log"
    grace_s = 30  # streams ending only at the grace would make uvicorn log that it cancelled them
    with served_gateway(kafka_bootstrap, log_path, {"KAFKAGATE_SHUTDOWN_GRACE_S": str(grace_s)}) as (process, url):
        await wait_ready(process, url, log_path)
        async with httpx.AsyncClient(base_url=url, timeout=grace_s * 2) as http:
            params = {"consumerGroup": group}
            async with http.stream("GET", events_url(stream), params=params, headers=SSE) as response:
                reader = read_sse(response)
                await until_connected(reader)
                process.send_signal(signal.SIGTERM)
                rest = [item async for item in reader]  # ends cleanly: a cut stream would raise here
            assert all(isinstance(item, Comment) for item in rest), rest
            code = await wait_exit(process, grace_s + 5)
    assert code == 0, f"exit code {code}\n{tail(log_path)}"
    text = log_path.read_text()
    assert "exceeded" not in text, tail(log_path)
    assert "Exception in ASGI application" not in text, tail(log_path)
    state, members = await group_in_kafka(admin, group)
    assert (state, members) == ("Empty", [])


async def test_a_rebalance_of_the_group_neither_repeats_nor_skips_events(
    client: httpx.AsyncClient, new_stream: NewStream, kafka_bootstrap: str
) -> None:
    pushed, polled = await new_stream(partitions=2), await new_stream(partitions=1)
    group = new_group()
    first = await produce_json(kafka_bootstrap, pushed, ({"n": n} for n in range(6)))
    params = {"consumerGroup": group, "offset": "earliest"}
    async with client.stream("GET", events_url(pushed), params=params, headers=SSE) as response:
        reader = read_sse(response)
        before = await take(reader, 6)
        # A member of the same group for another stream joins on this gateway: the group rebalances, and the
        # stream's member gets its partitions back with nothing committed (a reset to `earliest` would repeat).
        joined = await poll_response(client, polled, group, timeout=2000)
        assert joined.status_code == 200, joined.text
        second = await produce_json(kafka_bootstrap, pushed, ({"n": n} for n in range(6, 10)))
        after = await take(reader, 4)
        more = [item async for item, _ in _zip_heartbeat(reader)]
    positions = [(e.document["partition"], e.document["offset"]) for e in before + after]
    assert sorted(positions) == sorted(first + second)
    assert more == []


async def _zip_heartbeat(reader: AsyncIterator[Comment | Event]) -> AsyncIterator[tuple[Event, None]]:
    """Events that arrive before the next heartbeat (there should be none)."""
    async for item in reader:
        if isinstance(item, Comment):
            return
        yield item, None

"""Helpers shared by the consume, consumer-group and read tests: polls through the gateway, and Kafka-side
oracles that use plain aiokafka clients."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

NewStream = Callable[..., Awaitable[str]]
MiB = 1024 * 1024
Position = tuple[int, int]


def new_group() -> str:
    return f"g-{uuid.uuid4().hex[:12]}"


def iso_ms(epoch_ms: int) -> str:
    """The wire format, computed independently of the gateway's own formatter."""
    return datetime.fromtimestamp(epoch_ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{epoch_ms % 1000:03d}Z"


def positions(events: Iterable[dict[str, Any]]) -> list[Position]:
    return [(event["partition"], event["offset"]) for event in events]


async def poll_response(gateway: httpx.AsyncClient, stream: str, group: str, **params: Any) -> httpx.Response:
    return await gateway.get(f"/api/v1/streams/{stream}/events", params={"consumerGroup": group, **params})


async def poll(gateway: httpx.AsyncClient, stream: str, group: str, **params: Any) -> dict[str, Any]:
    response = await poll_response(gateway, stream, group, **params)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


async def drain(
    gateway: httpx.AsyncClient, stream: str, group: str, count: int, *, deadline_s: float = 30, **params: Any
) -> list[dict[str, Any]]:
    """Poll until `count` events arrived (or the deadline passed). `offset`, if given, is sent on the first poll only:
    on later polls it would seek again."""
    events: list[dict[str, Any]] = []
    params.setdefault("timeout", 500)
    deadline = time.monotonic() + deadline_s
    while len(events) < count and time.monotonic() < deadline:
        events.extend((await poll(gateway, stream, group, **params))["events"])
        params.pop("offset", None)
    return events


async def assert_nothing_more(gateway: httpx.AsyncClient, stream: str, group: str) -> None:
    assert (await poll(gateway, stream, group, timeout=300))["events"] == []


async def produce_raw(bootstrap: str, stream: str, records: Iterable[dict[str, Any]]) -> list[Position]:
    """Write records with a plain producer (kwargs of `AIOKafkaProducer.send`); returns where each one landed."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=8 * MiB)
    await producer.start()
    try:
        futures = [await producer.send(stream, **record) for record in records]
        landed = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [(meta.partition, meta.offset) for meta in landed]


async def produce_json(
    bootstrap: str, stream: str, values: Iterable[Any], partition: int | None = None
) -> list[Position]:
    return await produce_raw(bootstrap, stream, ({"value": orjson.dumps(v), "partition": partition} for v in values))


async def group_in_kafka(admin: AIOKafkaAdminClient, group: str) -> tuple[str, list[dict[str, Any]]]:
    """(state, members) of a group as the broker describes it."""
    (response,) = await admin.describe_consumer_groups([group])
    (described,) = response.to_object()["groups"]
    return described["state"], described["members"]


async def committed_in_kafka(admin: AIOKafkaAdminClient, group: str, stream: str) -> dict[int, int]:
    offsets = await admin.list_consumer_group_offsets(group)
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == stream and meta.offset >= 0}


async def close_sessions(gateway: httpx.AsyncClient, group: str) -> int:
    response = await gateway.delete(f"/api/v1/consumers/{group}/sessions")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["groupId"]) == ("closed", group)
    closed: int = body["closedSessions"]
    return closed

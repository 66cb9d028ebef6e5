"""Factories for integration tests: gateway apps over the session broker, streams, and an independent reader."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.kafka.clients import KafkaClients
from gateway.settings import Settings

pytestmark = pytest.mark.kafka

GatewayFactory = Callable[..., Awaitable[httpx.AsyncClient]]
# The root credential of every test gateway; clients send it unless a test passes its own `token`.
ROOT_TOKEN = "kg_test_root_" + "r" * 40


@pytest.fixture
async def make_gateway(kafka_bootstrap: str) -> AsyncIterator[GatewayFactory]:
    """Build in-process gateway apps (with settings overrides) and return httpx clients bound to them."""
    opened: list[tuple[KafkaClients, httpx.AsyncClient]] = []

    async def factory(*, wait: bool = True, token: str | None = ROOT_TOKEN, **overrides: Any) -> httpx.AsyncClient:
        overrides.setdefault("admin_token", ROOT_TOKEN)
        settings = Settings(bootstrap_servers=overrides.pop("bootstrap_servers", kafka_bootstrap), **overrides)
        clients = KafkaClients(settings)
        await clients.start()
        if wait:
            await clients.wait_ready(30)
        app: Starlette = create_app(settings, kafka=clients)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        headers = {"authorization": f"Bearer {token}"} if token is not None else {}
        client = httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=60, headers=headers)
        opened.append((clients, client))
        return client

    yield factory
    for clients, client in opened:
        await client.aclose()
        await clients.close()


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> httpx.AsyncClient:
    return await make_gateway()


@pytest.fixture
async def admin(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await client.start()
    yield client
    await client.close()


@pytest.fixture
async def new_stream(admin: AIOKafkaAdminClient) -> Callable[..., Awaitable[str]]:
    """Create a uniquely named topic directly in Kafka (not through the gateway)."""

    async def factory(partitions: int = 3, configs: dict[str, str] | None = None) -> str:
        name = f"t-{uuid.uuid4().hex[:12]}"
        await admin.create_topics([NewTopic(name, partitions, 1, topic_configs=configs or {})])
        return name

    return factory


async def read_all(bootstrap: str, topic: str, expected: int, timeout_s: float = 20) -> list[Any]:
    """Read a topic from the beginning with a plain consumer (no group) until `expected` records arrived."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        import asyncio

        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(records) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for part in batch.values():
                records.extend(part)
        # Give stragglers (duplicates would show up here) a last chance.
        batch = await consumer.getmany(timeout_ms=300)
        for part in batch.values():
            records.extend(part)
        return records
    finally:
        await consumer.stop()

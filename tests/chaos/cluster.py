"""Looking at a cluster from outside the gateway: who leads which partition, which replicas are in sync, and
how many records each partition holds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError


class ClusterView:
    def __init__(self, admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer):
        self._admin = admin
        self._consumer = consumer

    async def partitions(self, topic: str) -> list[dict[str, Any]]:
        """Metadata per partition (`partition`, `leader`, `replicas`, `isr`), as a broker sees it now."""
        (described,) = await self._admin.describe_topics([topic])
        return sorted(described["partitions"], key=lambda p: p["partition"])

    async def busiest_leader(self, topic: str) -> int:
        """The broker leading the partition of `topic` that holds the most records (asked again while the
        broker the clients picked is one just killed)."""
        for _ in range(40):
            with contextlib.suppress(KafkaError):
                parts = await self.partitions(topic)
                ends = await self._consumer.end_offsets([TopicPartition(topic, p["partition"]) for p in parts])
                busiest = max(parts, key=lambda p: ends[TopicPartition(topic, p["partition"])])
                return int(busiest["leader"])
            await asyncio.sleep(0.25)
        raise AssertionError(f"{topic}: no broker answered for its leaders")

    async def wait_isr(self, topic: str, size: int, timeout_s: float) -> float:
        """Wait until every partition of `topic` has exactly `size` in-sync replicas; the seconds it took."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(int(timeout_s / 0.25)):
            with contextlib.suppress(KafkaError):  # a broker the admin client knew may be gone; ask again
                if all(len(p["isr"]) == size for p in await self.partitions(topic)):
                    return loop.time() - start
            await asyncio.sleep(0.25)
        raise AssertionError(f"{topic}: ISRs never reached {size}: {await self.partitions(topic)}")


@asynccontextmanager
async def cluster_view(bootstrap: str) -> AsyncIterator[ClusterView]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, request_timeout_ms=5000)
    await admin.start()
    await consumer.start()
    try:
        yield ClusterView(admin, consumer)
    finally:
        await consumer.stop()
        await admin.close()

"""Streams that APIs create on first use (a seed API's per-tenant intake stream): create once, race-safe.

Any number of gateways may try to create the same stream at once; Kafka lets exactly one CreateTopics win and
answers the others `TOPIC_ALREADY_EXISTS`, which here means "done". The replication factor is that of the
gateway's internal topics (`KAFKAGATE_INTERNAL_REPLICATION_FACTOR`, by default min(3, brokers)).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from gateway import errors as ge
from gateway.kafka.clients import KafkaClients

_VISIBLE_WITHIN_S = 10.0


async def ensure_stream(kafka: KafkaClients, topic: str, partitions: int, configs: dict[str, str]) -> int:
    """Create `topic` unless it exists and return its partition count once this gateway's metadata shows it.

    An existing topic is used as it is: its partitions and configs are not checked against the arguments."""
    kafka.require_ready()
    with contextlib.suppress(ge.StreamNotFound):
        return (await kafka.admin.limits(topic))[0]
    with contextlib.suppress(ge.StreamAlreadyExists):  # another gateway (or request) came first: the goal
        await kafka.admin.create_internal(topic, partitions, configs)
    # The winner may have been another gateway, whose creation this gateway's broker may not show yet.
    deadline = time.monotonic() + _VISIBLE_WITHIN_S
    while True:
        try:
            return (await kafka.admin.limits(topic))[0]
        except ge.StreamNotFound:
            if time.monotonic() > deadline:
                raise ge.OperationTimeout(f"stream {topic!r} was created but did not appear in time") from None
            await asyncio.sleep(0.05)

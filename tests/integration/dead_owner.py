"""A gateway that claimed an idempotency key, wrote some records and died before it answered, as Kafka keeps it:
the claim in the idempotency log, the records stamped with its request id, and nothing after them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from gateway.idempotency import fingerprint, scope_of
from gateway.idempotency_ledger import claim_key, claim_value
from gateway.kafka.idempotency_log import PARTITIONS, TOPIC
from gateway.partitioner import partition_for_key
from gateway.principal import Principal

LEASE_MS = 1500  # short, so the test's retry takes the key over soon
KEEP_MS = 3_600_000


@dataclass(frozen=True)
class DeadOwner:
    """Who claimed which key for which request: `request_bytes` as the route fingerprints them (the body for the
    header's keys; an API's canonical form for its own), `realm` the API's key namespace."""

    principal: Principal
    path: str
    key: str
    request_bytes: bytes
    realm: str = ""


async def plant_dead_owner(bootstrap: str, owner: DeadOwner, stream: str, written: list[bytes]) -> list[int]:
    """Write the dead owner's claim, then `written` (record values) to partition 0 of `stream`; their offsets."""
    scope, request_id = scope_of(owner.principal, owner.key, owner.realm), f"dead-{uuid.uuid4().hex[:8]}"
    digest = fingerprint(owner.principal, "POST", owner.path, "", owner.request_bytes)
    claim = claim_value("dead-gateway", digest, LEASE_MS, request_id, KEEP_MS)
    stamps = [("x-request-id", request_id.encode()), ("idempotency-key", owner.key.encode())]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        partition = partition_for_key(scope.encode(), PARTITIONS)
        await producer.send_and_wait(TOPIC, claim, key=claim_key(scope), partition=partition)
        offsets = []
        for value in written:
            meta = await producer.send_and_wait(stream, value, headers=stamps, partition=0)
            offsets.append(meta.offset)
        return offsets
    finally:
        await producer.stop()

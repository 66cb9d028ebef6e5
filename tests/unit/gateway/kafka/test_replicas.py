"""Refusing records for partitions with too few in-sync replicas, from the producer's metadata alone."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import PartitionMetadata

from gateway.kafka.replicas import InsyncReplicas


class FakeClient:
    def __init__(self, partitions: dict[int, tuple[int, list[int]]]):
        self.cluster = SimpleNamespace(
            _partitions={
                "orders": {
                    p: PartitionMetadata("orders", p, leader, [1, 2, 3], isr, None)
                    for p, (leader, isr) in partitions.items()
                }
            }
        )
        self.refreshes = 0

    def force_metadata_update(self) -> Any:
        self.refreshes += 1


def producer(partitions: dict[int, tuple[int, list[int]]]) -> tuple[AIOKafkaProducer, FakeClient]:
    client = FakeClient(partitions)
    return cast(AIOKafkaProducer, SimpleNamespace(client=client)), client


def test_a_partition_with_enough_in_sync_replicas_may_be_written() -> None:
    fake, client = producer({0: (1, [1, 2])})
    assert InsyncReplicas(5).refusal(fake, "orders", 0, 2) is None
    assert client.refreshes == 0


@pytest.mark.parametrize(("leader", "isr", "words"), [(1, [1], "1 in-sync replicas"), (-1, [], "no leader")])
def test_too_few_in_sync_replicas_or_no_leader_is_503_and_refreshes_metadata(
    leader: int, isr: list[int], words: str
) -> None:
    fake, client = producer({0: (leader, isr)})
    refusal = InsyncReplicas(7).refusal(fake, "orders", 0, 2)
    assert refusal is not None
    assert (refusal.status, refusal.retry_after_s) == (503, 7)
    assert words in refusal.detail
    assert "nothing was written" in refusal.detail
    assert client.refreshes == 1


def test_refreshes_are_rate_limited() -> None:
    fake, client = producer({0: (1, [1])})
    replicas = InsyncReplicas(5)
    for _ in range(10):
        replicas.refusal(fake, "orders", 0, 2)
    assert client.refreshes == 1


def test_min_insync_of_one_and_unknown_partitions_are_left_to_kafka() -> None:
    fake, _ = producer({0: (-1, [])})
    replicas = InsyncReplicas(5)
    assert replicas.refusal(fake, "orders", 0, 1) is None
    assert replicas.refusal(fake, "orders", 9, 2) is None
    assert replicas.refusal(fake, "payments", 0, 2) is None


def test_keyless_records_go_to_partitions_that_can_take_them() -> None:
    fake, _ = producer({0: (1, [1]), 1: (2, [2, 3]), 2: (3, [3, 1])})
    assert InsyncReplicas(5).writable(fake, "orders", 3, 2) == [1, 2]
    none_fit, _ = producer({0: (1, [1]), 1: (2, [2])})
    assert InsyncReplicas(5).writable(none_fit, "orders", 2, 2) == [0, 1]

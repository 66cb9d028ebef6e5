"""Reading a member's next batch ahead: what is taken, what is put back, and where the member seeks."""

from __future__ import annotations

from typing import Any, cast

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from gateway.kafka.read_ahead import Batch, ReadAhead, take

STREAM = "orders"


def record(partition: int, offset: int, pad: int = 10) -> ConsumerRecord[bytes, bytes]:
    value = orjson.dumps({"n": offset, "pad": "x" * pad})
    return ConsumerRecord(STREAM, partition, offset, 1_700_000_000_000, 0, None, value, None, 0, len(value), ())


def tp(partition: int) -> TopicPartition:
    return TopicPartition(STREAM, partition)


class FakeConsumer:
    """Hands out prepared fetches and records every seek, like the parts of `AIOKafkaConsumer` a member uses."""

    def __init__(self, fetches: list[dict[TopicPartition, list[Any]] | Exception], assigned: set[int]):
        self.fetches = fetches
        self.assigned = {tp(p) for p in assigned}
        self.seeks: list[tuple[int, int]] = []
        self.max_records: list[int] = []

    async def getmany(self, *, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        assert timeout_ms == 0
        self.max_records.append(max_records)
        fetched = self.fetches.pop(0)
        if isinstance(fetched, Exception):
            raise fetched
        return fetched

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.seeks.append((partition.partition, offset))

    def assignment(self) -> set[TopicPartition]:
        return self.assigned


def consumer(fake: FakeConsumer) -> AIOKafkaConsumer:
    return cast(AIOKafkaConsumer, fake)


def placed(batch: Batch) -> list[tuple[int, int]]:
    return [(event.partition, event.offset) for event in batch.events]


def test_take_renders_in_partition_order_and_is_full_at_the_limit() -> None:
    fake = FakeConsumer([], {0, 1})
    fetched = {tp(1): [record(1, 7)], tp(0): [record(0, 3), record(0, 4)]}
    batch = take(consumer(fake), fetched, 1 << 20, Batch(), limit=3)
    assert placed(batch) == [(0, 3), (0, 4), (1, 7)]
    assert batch.full
    assert batch.size_bytes == sum(len(event.body) + 1 for event in batch.events)
    assert fake.seeks == []
    assert batch.starts() == {0: 3, 1: 7}


def test_take_seeks_back_every_partition_cut_by_the_byte_cap() -> None:
    fake = FakeConsumer([], {0, 1})
    fetched = {tp(0): [record(0, 0, pad=300), record(0, 1, pad=300)], tp(1): [record(1, 0, pad=300)]}
    batch = take(consumer(fake), fetched, 700, Batch(), limit=100)
    assert placed(batch) == [(0, 0)]
    assert batch.full
    assert fake.seeks == [(0, 1), (1, 0)]


def test_take_always_returns_one_event_even_above_the_cap() -> None:
    fake = FakeConsumer([], {0})
    batch = take(consumer(fake), {tp(0): [record(0, 5, pad=5000), record(0, 6)]}, 1024, Batch(), limit=10)
    assert placed(batch) == [(0, 5)]
    assert fake.seeks == [(0, 6)]


def test_take_tops_up_a_batch_within_what_is_left_of_the_cap() -> None:
    fake = FakeConsumer([], {0})
    batch = take(consumer(fake), {tp(0): [record(0, 0)]}, 1 << 20, Batch(), limit=3)
    assert not batch.full
    take(consumer(fake), {tp(0): [record(0, 1), record(0, 2)]}, 1 << 20, batch, limit=3)
    assert placed(batch) == [(0, 0), (0, 1), (0, 2)]
    assert batch.full


async def test_a_batch_read_for_the_same_limits_is_claimed_once() -> None:
    fake = FakeConsumer([{tp(0): [record(0, 10), record(0, 11)]}], {0})
    ahead = ReadAhead(consumer(fake), STREAM)
    ahead.start(2, 1 << 20)
    await ahead.settle()
    batch = ahead.claim(2, 1 << 20)
    assert batch is not None
    assert placed(batch) == [(0, 10), (0, 11)]
    assert ahead.claim(2, 1 << 20) is None
    assert fake.seeks == []
    assert fake.max_records == [2]


@pytest.mark.parametrize("limits", [(1, 1 << 20), (2, 4096)])
async def test_a_poll_with_other_limits_puts_the_batch_back(limits: tuple[int, int]) -> None:
    fake = FakeConsumer([{tp(0): [record(0, 10)], tp(1): [record(1, 4), record(1, 5)]}], {0, 1})
    ahead = ReadAhead(consumer(fake), STREAM)
    ahead.start(2, 1 << 20)
    await ahead.settle()
    assert ahead.claim(*limits) is None
    assert sorted(fake.seeks) == [(0, 10), (1, 4)]


async def test_putting_back_skips_partitions_the_member_no_longer_holds() -> None:
    fake = FakeConsumer([{tp(0): [record(0, 10)], tp(1): [record(1, 4)]}], {0, 1})
    ahead = ReadAhead(consumer(fake), STREAM)
    ahead.start(2, 1 << 20)
    await ahead.settle()
    fake.assigned = {tp(1)}
    ahead.unread()
    assert fake.seeks == [(1, 4)]
    ahead.unread()
    assert fake.seeks == [(1, 4)], "a batch is put back once"


async def test_a_rebalance_drops_the_batch_without_seeking() -> None:
    fake = FakeConsumer([{tp(0): [record(0, 10)]}], {0})
    ahead = ReadAhead(consumer(fake), STREAM)
    ahead.start(1, 1 << 20)
    await ahead.settle()
    ahead.drop()
    assert ahead.claim(1, 1 << 20) is None
    assert fake.seeks == []


async def test_a_fetch_error_is_raised_by_the_next_claim_and_only_once() -> None:
    fake = FakeConsumer([RuntimeError("coordinator gone")], {0})
    ahead = ReadAhead(consumer(fake), STREAM)
    ahead.start(1, 1 << 20)
    await ahead.settle()
    with pytest.raises(RuntimeError, match="coordinator gone"):
        ahead.claim(1, 1 << 20)
    assert ahead.claim(1, 1 << 20) is None


async def test_an_empty_fetch_leaves_nothing_to_claim() -> None:
    fake = FakeConsumer([{}], {0})
    ahead = ReadAhead(consumer(fake), STREAM)
    ahead.start(5, 1 << 20)
    await ahead.settle()
    assert ahead.claim(5, 1 << 20) is None


async def test_close_cancels_a_read_in_flight() -> None:
    fake = FakeConsumer([], {0})
    ahead = ReadAhead(consumer(fake), STREAM)
    ahead.start(5, 1 << 20)  # its fetch would fail: there is nothing prepared, but it never runs
    await ahead.close()
    await ahead.settle()
    assert ahead.claim(5, 1 << 20) is None

from __future__ import annotations

import random

import pytest

from gateway.partitioner import murmur2, partition_for_key, partitions_for_keys


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # Test vectors from Apache Kafka's UtilsTest.testMurmur2.
        (b"21", -973932308),
        (b"foobar", -790332482),
        (b"a-little-bit-long-string", -985981536),
        (b"a-little-bit-longer-string", -1486304829),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        (b"abc", 479470107),
    ],
)
def test_murmur2_matches_kafka(data: bytes, expected: int) -> None:
    assert murmur2(data) == expected


def test_partition_is_positive_modulo() -> None:
    # murmur2(b"21") is negative; Java's toPositive masks the sign bit before the modulo.
    assert partition_for_key(b"21", 10) == (-973932308 & 0x7FFFFFFF) % 10
    assert all(0 <= partition_for_key(f"k{i}".encode(), 7) < 7 for i in range(500))


def test_partition_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        partition_for_key(b"x", 0)


def test_batched_partitions_match_the_scalar_partitioner_for_every_length_and_mix() -> None:
    rng = random.Random(14)
    for trial in range(200):
        lengths = rng.sample(range(60), rng.randrange(1, 4))
        keys = [bytes(rng.randrange(256) for _ in range(rng.choice(lengths))) for _ in range(rng.randrange(1, 80))]
        count = rng.randrange(1, 50)
        assert partitions_for_keys(keys, count) == [partition_for_key(key, count) for key in keys], trial


def test_batched_partitions_cover_the_sign_bit_and_the_kafka_vectors() -> None:
    vectors = [b"21", b"foobar", b"a-little-bit-long-string", b"a-little-bit-longer-string", b"abc"]
    # Ten copies each, so every length has enough keys to be hashed in lanes.
    keys = [key for key in vectors for _ in range(10)]
    assert partitions_for_keys(keys, 1000) == [(murmur2(key) & 0x7FFFFFFF) % 1000 for key in keys]
    assert partitions_for_keys([b"21"] * 8, 10) == [(-973932308 & 0x7FFFFFFF) % 10] * 8


def test_batched_partitions_of_nothing_and_a_bad_count() -> None:
    assert partitions_for_keys([], 3) == []
    with pytest.raises(ValueError, match="positive"):
        partitions_for_keys([b"x"], 0)

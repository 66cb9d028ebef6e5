from __future__ import annotations

from typing import Any

from processors.table_store import PartitionStore


def test_partitions_share_a_table_without_seeing_each_other() -> None:
    table: dict[str, Any] = {}
    zero, one = PartitionStore(table, 0), PartitionStore(table, 1)
    zero[("u1", 1000)] = {"end": 2000, "state": 1}
    zero[(None, 0)] = {"streamTime": 1500}
    one[("u1", 1000)] = {"end": 2000, "state": 7}
    assert zero[("u1", 1000)]["state"] == 1
    assert one[("u1", 1000)]["state"] == 7
    assert sorted(zero.keys_here(), key=str) == [("u1", 1000), (None, 0)]
    assert one.keys_here() == [("u1", 1000)]
    assert ("u1", 1000) in zero
    assert ("u2", 1000) not in zero
    assert zero.get(("u2", 1000)) is None
    del zero[("u1", 1000)]
    assert len(zero) == 1
    assert len(one) == 1
    assert all(key.startswith(("0|", "1|")) for key in table)


def test_keys_survive_a_json_round_trip_of_the_table() -> None:
    import orjson

    table: dict[str, Any] = {}
    PartitionStore(table, 2)[("user 1", 3000)] = {"end": 4000}
    restored = orjson.loads(orjson.dumps(table))
    assert PartitionStore(restored, 2).keys_here() == [("user 1", 3000)]

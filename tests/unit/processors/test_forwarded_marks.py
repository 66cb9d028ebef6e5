"""Stage 1's forwarded marks: kept in memory per event, written to the table's changelog before each commit."""

from __future__ import annotations

from typing import Any

import orjson
from aiokafka.partitioner import DefaultPartitioner

from processors.compiler import compile_processor
from processors.functions import FunctionRegistry
from processors.runtime.state import StatePublisher
from schemas.processors import ProcessorSpec
from tests.unit.processors.specs import seed_document

PARTITIONS = 3


class _Table:
    """The parts of a Faust table the marks use: its store and `send_changelog(partition, key, value)`."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.changelog: list[tuple[int, str, Any]] = []

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def send_changelog(self, partition: int, key: str, value: Any) -> None:
        self.changelog.append((partition, key, value))


def _publisher(table: _Table) -> StatePublisher:
    plan = compile_processor(ProcessorSpec.model_validate(seed_document()), FunctionRegistry.load())
    return StatePublisher(plan, "p1", table, "127.0.0.1:9", PARTITIONS)


def _aggregate_partition(key: bytes) -> int:
    everything = list(range(PARTITIONS))
    return int(DefaultPartitioner()(key, everything, everything))


def test_marks_wait_for_the_commit_and_land_in_the_source_partitions_changelog_partition() -> None:
    table = _Table()
    publisher = _publisher(table)
    target = _aggregate_partition(b'"u1"')
    for offset in (4, 5, 6):
        publisher.forwarded(2, b'"u1"', offset)
    assert table.changelog == []  # nothing per event
    publisher.write_marks()
    assert table.changelog == [(2, f"forwarded|2|{target}", 6)]
    assert table.data[f"forwarded|2|{target}"] == 6
    publisher.write_marks()  # nothing changed: nothing written again
    assert len(table.changelog) == 1


def test_a_worker_that_takes_over_reads_its_predecessors_marks() -> None:
    table = _Table()
    before = _publisher(table)
    keys = {_aggregate_partition(b'"u%d"' % n): b'"u%d"' % n for n in range(20)}
    (first, first_key), (second, second_key) = list(keys.items())[:2]
    before.forwarded(0, first_key, 41)
    before.write_marks()
    after = _publisher(table)  # a new worker over the restored table
    after.forwarded(0, second_key, 42)
    after.handled(0, 42)
    after.write_marks()
    assert [(key, value) for _, key, value in table.changelog] == [
        (f"forwarded|0|{first}", 41),
        (f"forwarded|0|{second}", 42),
    ]
    published = dict(after.book.drain(0))
    source = next(value for key, value in published.items() if key.endswith("|s|0"))
    assert source is not None
    assert orjson.loads(source)["forwarded"] == {str(first): 41, str(second): 42}


def test_revoked_partitions_write_their_pending_marks_then_nothing_more() -> None:
    table = _Table()
    publisher = _publisher(table)
    publisher.forwarded(1, b'"u1"', 7)
    publisher.forget([1], [1])
    assert [(partition, value) for partition, _, value in table.changelog] == [(1, 7)]
    publisher.write_marks()
    assert len(table.changelog) == 1

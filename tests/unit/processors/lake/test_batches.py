"""Micro-batch bookkeeping: dedupe in a batch, the offsets a commit covers, and what the group may commit."""

from __future__ import annotations

from processors.lake import batches
from processors.lake.batches import DatasetBatch, Pending, Progress


def pending(event_id: str, offset: int, partition: int = 0) -> Pending:
    return Pending(event_id, "raw", partition, offset, {})


def test_a_batch_keeps_the_first_of_an_event_id_and_its_lowest_offsets() -> None:
    batch = DatasetBatch(opened_at=0.0)
    assert batch.add(pending("a", 5))
    assert not batch.add(pending("a", 6))
    assert batch.add(pending("b", 7, partition=1))
    assert batch.first_offsets() == {("raw", 0): 5, ("raw", 1): 7}
    assert batches.covered(batch.events) == {("raw", 0): 6, ("raw", 1): 8}
    assert batch.due(now=10.0, interval_s=30, max_rows=2)
    assert not batch.due(now=10.0, interval_s=30, max_rows=3)
    assert batch.due(now=30.0, interval_s=30, max_rows=3)


def test_offsets_round_trip_merge_forward_and_filter_replays() -> None:
    offsets = {("raw", 0): 10, ("raw", 2): 4}
    assert batches.decode_offsets(batches.encode_offsets(offsets)) == offsets
    assert batches.decode_offsets("not json") == {}
    assert batches.merged(offsets, {("raw", 0): 8, ("raw", 1): 3}) == {("raw", 0): 10, ("raw", 1): 3, ("raw", 2): 4}
    events = [pending("a", 9), pending("b", 10), pending("c", 0, partition=1)]
    assert [e.event_id for e in batches.fresh(events, offsets)] == ["b", "c"]


def test_the_group_commits_no_further_than_what_batches_still_hold() -> None:
    progress = Progress()
    progress.advance("raw", 0, 41)
    progress.advance("raw", 1, 9)
    assert progress.committable([{("raw", 0): 30}]) == {("raw", 0): 30, ("raw", 1): 10}
    progress.forget([("raw", 1)])
    assert progress.committable([]) == {("raw", 0): 42}

"""The first record handled on a partition after its assignment: never after records that no handler saw."""

from __future__ import annotations

import pytest
from aiokafka import TopicPartition

from processors.runtime import positions as positions_module
from processors.runtime.positions import Positions

SOURCE = "orders"
TP = (SOURCE, 0)


class _Consumer:
    def __init__(self, committed: dict[tuple[str, int], int]):
        self._committed_offset = committed


class _App:
    def __init__(self, committed: dict[tuple[str, int], int]):
        self.consumer = _Consumer(committed)


class _Keeper:
    """Answers `holds_records` from a fixed set of offsets that hold records."""

    def __init__(self, records: set[int]):
        self.records = records
        self.asked: list[tuple[int, int]] = []

    async def holds_records(self, tp: TopicPartition, start: int, end: int) -> bool:
        assert tp == TopicPartition(*TP)
        self.asked.append((start, end))
        return any(start <= offset < end for offset in self.records)


class _Exited(Exception):
    pass


@pytest.fixture
def exits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    codes: list[int] = []

    def exit_(code: int) -> None:
        codes.append(code)
        raise _Exited

    monkeypatch.setattr(positions_module.os, "_exit", exit_)
    return codes


def positions(committed: int | None, records: set[int]) -> tuple[Positions, _Keeper]:
    keeper = _Keeper(records)
    app = _App({} if committed is None else {TP: committed})
    return Positions(app, keeper, {SOURCE}, lambda: True), keeper  # type: ignore[arg-type]


async def handle(checked: Positions, offset: int) -> None:
    """What the runtime's guard does for each record before its handler runs."""
    if checked.unchecked(TP):
        await checked.check_first(TP, offset)
    checked.mark_handled(*TP, offset)


async def test_a_first_record_at_the_committed_offset_needs_no_read(exits: list[int]) -> None:
    checked, keeper = positions(11, set(range(20)))
    for offset in (11, 12, 13):
        await handle(checked, offset)
    assert (exits, keeper.asked) == ([], [])


async def test_a_first_record_after_a_lost_one_stops_the_worker_before_it_is_handled(exits: list[int]) -> None:
    checked, keeper = positions(11, set(range(20)))
    with pytest.raises(_Exited):
        await handle(checked, 12)
    assert exits == [positions_module.STALLED_EXIT_CODE]
    assert keeper.asked == [(11, 12)]
    assert checked.handled == {}, "the record after the gap was not handled"


async def test_offsets_without_records_are_no_gap_and_are_read_once(exits: list[int]) -> None:
    checked, keeper = positions(11, {13, 14, 15})  # 11 and 12: transaction markers
    for offset in (13, 14, 15):
        await handle(checked, offset)
    assert (exits, keeper.asked) == ([], [(11, 13)])


async def test_a_partition_assigned_again_is_checked_again(exits: list[int]) -> None:
    checked, keeper = positions(11, set(range(20)))
    await handle(checked, 11)
    checked.forget({TopicPartition(*TP)})
    checked.app.consumer._committed_offset[TP] = 12
    with pytest.raises(_Exited):
        await handle(checked, 14)
    assert keeper.asked == [(12, 14)]


@pytest.mark.parametrize("committed", [None, -1])
async def test_without_a_committed_offset_there_is_nothing_to_compare(exits: list[int], committed: int | None) -> None:
    checked, keeper = positions(committed, set(range(20)))
    await handle(checked, 5)
    assert (exits, keeper.asked) == ([], [])

"""When published progress covers a source position (`schemas.processor_state.covers`)."""

from __future__ import annotations

from schemas.processor_state import AggregateProgress, SourceProgress, covers


def source(partition: int, handled: int, **forwarded: int) -> SourceProgress:
    return SourceProgress(
        partition=partition,
        handled=handled,
        forwarded={int(k[1:]): v for k, v in forwarded.items()},
        publishedAtMs=0,
    )


def progress(partition: int, **applied: int) -> AggregateProgress:
    return AggregateProgress(
        partition=partition, streamTime=0, applied={int(k[1:]): v for k, v in applied.items()}, publishedAtMs=0
    )


def test_direct_plans_need_stage_one_to_have_handled_the_offset() -> None:
    sources = {0: source(0, 10)}
    assert covers({0: 10}, 0, repartitioned=False, sources=sources, progress=None)
    assert not covers({0: 11}, 0, repartitioned=False, sources=sources, progress=None)
    assert not covers({1: 0}, 0, repartitioned=False, sources=sources, progress=None)


def test_repartitioned_plans_need_what_was_forwarded_to_be_applied() -> None:
    sources = {0: source(0, 10, a2=8)}  # offset 8 was the last one stage 1 sent to aggregate partition 2
    assert not covers({0: 10}, 2, repartitioned=True, sources=sources, progress=progress(2, p0=7))
    assert covers({0: 10}, 2, repartitioned=True, sources=sources, progress=progress(2, p0=8))
    assert covers({0: 10}, 1, repartitioned=True, sources=sources, progress=None)  # nothing went to partition 1
    assert covers({0: 5}, 2, repartitioned=True, sources=sources, progress=progress(2, p0=5))
    assert not covers({0: 5}, 2, repartitioned=True, sources=sources, progress=None)

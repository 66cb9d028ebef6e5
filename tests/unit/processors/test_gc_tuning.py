from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from processors import gc_tuning


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_settle_freezes_what_is_alive_and_raises_only_the_young_threshold() -> None:
    gc.set_threshold(700, 10, 10)
    gc.unfreeze()
    kept = [{"alive": i} for i in range(100)]
    gc_tuning.settle()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold() == (gc_tuning.YOUNG_THRESHOLD, 10, 10)


@pytest.mark.usefixtures("restored_gc")
def test_cycles_made_after_settling_are_still_collected() -> None:
    gc_tuning.settle()

    class Node:
        other: object = None

    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None

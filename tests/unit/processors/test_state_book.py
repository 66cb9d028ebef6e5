"""The state book: which records a worker publishes for queries, in which order, and when windows drop out."""

from __future__ import annotations

import orjson

from processors.aggregate_store import Result
from processors.state_book import StateBook
from processors.windows import Window, WindowPolicy
from schemas.processor_state import decode_published

POLICY = WindowPolicy(kind="tumbling", size_ms=1000, advance_ms=1000, grace_ms=0)


def result(key: str, start: int, count: int) -> Result:
    window = Window(start, start + 1000)
    return Result(key, window, {"windowStart": start, "windowEnd": start + 1000, "userId": key, "count": count}, 0)


def test_key_records_come_before_the_progress_that_covers_them() -> None:
    book = StateBook("p1", POLICY, kept_ms=5000)
    book.results(2, [result("u1", 0, 1)])
    book.progress(2, 10, source_partition=0, source_offset=41)
    book.handled(0, 41, {2: 41})
    records = book.drain(now_ms=123)
    assert [key for key, _ in records] == ['p1|k|"u1"', "p1|a|2", "p1|s|0"]
    state, progress, source = (decode_published(value or b"") for _, value in records)
    assert orjson.loads(records[0][1] or b"")["windows"][0]["closesAt"] == 1000
    assert getattr(state, "partition", None) == 2
    assert getattr(progress, "applied", None) == {0: 41}
    assert getattr(source, "forwarded", None) == {2: 41}
    assert book.drain(now_ms=124) == []  # nothing changed since


def test_a_key_keeps_its_other_windows_and_drops_long_closed_ones() -> None:
    book = StateBook("p1", POLICY, kept_ms=5000)
    book.results(0, [result("u1", 0, 3), result("u1", 1000, 1)])
    book.results(0, [result("u1", 1000, 2)])
    book.progress(0, 1500, 0, 7)
    windows = orjson.loads(book.drain(0)[0][1] or b"")["windows"]
    assert [(w["start"], w["value"]["count"]) for w in windows] == [(0, 3), (1000, 2)]
    book.results(0, [result("u1", 6000, 1)])
    book.progress(0, 6500, 0, 8)  # window 0 closed at 1000, more than 5000 ms of stream time ago
    windows = orjson.loads(book.drain(0)[0][1] or b"")["windows"]
    assert [w["start"] for w in windows] == [1000, 6000]


def test_a_moved_partition_is_no_longer_published_here() -> None:
    book = StateBook("p1", POLICY)
    book.results(1, [result("u1", 0, 1)])
    book.progress(1, 5, 0, 1)
    book.forget(1)
    assert book.drain(0) == []


def test_handled_merges_what_was_forwarded() -> None:
    book = StateBook("p1", None)
    book.handled(0, 5, {1: 5})
    book.handled(0, 6, {2: 6})
    ((_, value),) = book.drain(0)
    assert orjson.loads(value or b"")["forwarded"] == {"1": 5, "2": 6}

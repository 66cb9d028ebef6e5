"""The resume log: one Last-Event-ID to a position per partition, runs, and the window."""

from __future__ import annotations

import random

from gateway.event_ids import EventPosition
from gateway.resume_log import ResumeLog


def test_resume_after_the_named_event_on_every_partition() -> None:
    log = ResumeLog(window=100)
    log.started({0: 10, 1: 7, 2: 3})
    log.sent([(0, 10), (0, 11), (1, 7), (0, 12), (2, 3), (1, 8)])
    assert log.resume_at(EventPosition(1, 7)) == {0: 12, 1: 8, 2: 3}
    assert log.resume_at(EventPosition(0, 10)) == {0: 11, 1: 7, 2: 3}
    assert log.resume_at(EventPosition(1, 8)) == {0: 13, 1: 9, 2: 4}
    assert log.next_offsets == {0: 13, 1: 9, 2: 4}


def test_an_event_this_connection_never_sent_is_unknown() -> None:
    log = ResumeLog(window=100)
    log.started({0: 5})
    log.sent([(0, 5), (0, 6)])
    assert log.resume_at(EventPosition(0, 4)) is None
    assert log.resume_at(EventPosition(0, 7)) is None
    assert log.resume_at(EventPosition(1, 5)) is None


def test_partitions_started_after_the_named_event_resume_where_they_started() -> None:
    log = ResumeLog(window=100)
    log.started({0: 0})
    log.sent([(0, 0)])
    log.started({0: 99, 1: 40})  # a later batch: partition 0 keeps its start, 1 is new
    log.sent([(1, 40), (0, 1)])
    assert log.resume_at(EventPosition(0, 0)) == {0: 1, 1: 40}


def test_consecutive_records_of_a_partition_share_a_run() -> None:
    log = ResumeLog(window=10_000)
    log.sent((0, o) for o in range(1000))
    log.sent((1, o) for o in range(1000))
    assert log.runs == 2
    assert len(log) == 2000
    assert log.resume_at(EventPosition(0, 499)) == {0: 500, 1: 0}


def test_gaps_from_compaction_stay_in_one_run() -> None:
    log = ResumeLog(window=100)
    log.sent([(0, 1), (0, 5), (0, 9)])
    assert log.runs == 1
    assert log.resume_at(EventPosition(0, 5)) == {0: 6}


def test_the_window_folds_the_oldest_out_and_reports_them() -> None:
    log = ResumeLog(window=4)
    log.started({0: 0, 1: 0})
    assert log.sent([(0, 0), (0, 1), (1, 0), (1, 1)]) == {}
    assert log.sent([(0, 2)]) == {0: 1}
    assert log.sent([(0, 3), (0, 4)]) == {0: 2, 1: 1}
    assert len(log) == 4
    assert log.folded == {0: 2, 1: 1}
    assert log.resume_at(EventPosition(0, 0)) is None  # folded: no longer known
    assert log.resume_at(EventPosition(1, 1)) == {0: 2, 1: 2}
    assert log.resume_at(EventPosition(0, 4)) == {0: 5, 1: 2}


def test_matches_a_brute_force_model() -> None:
    rng = random.Random(7)
    nexts = dict.fromkeys(range(4), 0)
    log = ResumeLog(window=10_000)
    log.started(dict(nexts))
    sent: list[tuple[int, int]] = []
    for _ in range(3000):
        partition = rng.randrange(4)
        sent.append((partition, nexts[partition]))
        log.sent([sent[-1]])
        nexts[partition] += rng.choice((1, 1, 1, 3))
    for index in rng.sample(range(len(sent)), 200):
        expected = dict.fromkeys(range(4), 0)
        for partition, offset in sent[: index + 1]:
            expected[partition] = offset + 1
        assert log.resume_at(EventPosition(*sent[index])) == expected


def test_folding_many_runs_keeps_memory_to_the_window() -> None:
    log = ResumeLog(window=10)
    for offset in range(10_000):
        log.sent([(offset % 2, offset)])  # alternating partitions: a run per record
    assert log.runs == 10
    assert len(log._runs) <= 3 * 10 * 2  # folded runs are dropped in bulk
    assert log.folded == {0: 9989, 1: 9990}  # offsets 9990.. are the window
    assert log.resume_at(EventPosition(1, 9995)) == {0: 9995, 1: 9996}

from __future__ import annotations

from kafkagate.client.consumer import _Positions
from kafkagate.client.models import Event, Poll


def event(partition: int, offset: int) -> Event:
    return Event(event_id=f"evt_{partition}_{offset}", partition=partition, offset=offset, timestamp="t")


def positions(start: int | str | None = "earliest") -> _Positions:
    return _Positions("s", "g", start=start, limit=10, timeout_ms=100, max_bytes=None, until_idle=False)


def test_commits_name_the_next_offset_of_each_processed_partition_once() -> None:
    at = positions()
    at.mark(event(0, 4))
    at.mark(event(1, 9))
    assert at.pending() == [("s", 0, 5), ("s", 1, 10)]
    at.committed_now(at.pending())
    assert at.pending() == []
    at.mark(event(0, 5))
    assert at.pending() == [("s", 0, 6)]


def test_polled_events_not_yet_processed_are_unfinished() -> None:
    at = positions()
    at.received(Poll(events=[event(0, 0), event(0, 1)], metadata={"consumerGroup": "g"}))
    at.mark(event(0, 0))
    assert at.unfinished()
    at.mark(event(0, 1))
    assert not at.unfinished()


def test_start_is_sent_once_and_again_after_a_rewind_only_as_a_reset_policy() -> None:
    at = positions("earliest")
    assert (at.poll_offset(), at.poll_offset()) == ("earliest", None)
    at.rewound()
    assert at.poll_offset() == "earliest"
    numbered = positions(42)
    assert numbered.poll_offset() == 42
    numbered.rewound()
    assert numbered.poll_offset() is None, "a number would seek a member past what was committed"

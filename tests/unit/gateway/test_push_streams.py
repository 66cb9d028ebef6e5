"""The registry of event-stream connections: takeover, and which ended connections' logs are kept."""

from __future__ import annotations

import asyncio

import pytest

from gateway import errors as ge
from gateway import push_streams
from gateway.event_ids import EventPosition
from gateway.push_streams import PushStreams


async def test_a_new_connection_stops_the_live_one_and_gets_its_log() -> None:
    streams = PushStreams(window=10, keep_s=60, max_kept=10)
    async with streams.opening("g", "s") as (first, previous):
        assert previous is None
    first.log.sent([(0, 5)])
    assert streams.connections() == 1

    async def end_when_told() -> None:
        await first.stop.wait()
        streams.ended(first)

    ender = asyncio.create_task(end_when_told())
    async with streams.opening("g", "s") as (second, previous):
        assert first.stop.is_set()
        assert first.done.is_set()
        assert previous is first.log
        assert previous.resume_at(EventPosition(0, 5)) == {0: 6}
    await ender
    assert streams.live() == [second]


async def test_a_connection_that_does_not_end_in_time_is_a_conflict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(push_streams, "_TAKEOVER_WAIT_S", 0.01)
    streams = PushStreams(window=10, keep_s=60, max_kept=10)
    async with streams.opening("g", "s"):
        pass
    with pytest.raises(ge.Conflict):
        async with streams.opening("g", "s"):
            pass


async def test_a_failed_opening_registers_nothing() -> None:
    streams = PushStreams(window=10, keep_s=60, max_kept=10)
    with pytest.raises(RuntimeError):
        async with streams.opening("g", "s"):
            raise RuntimeError("setup failed")
    assert streams.live() == []


async def test_ended_logs_are_kept_up_to_max_kept_and_keep_s() -> None:
    streams = PushStreams(window=10, keep_s=60, max_kept=2)

    for stream in ("a", "b", "c"):
        async with streams.opening("g", stream) as (connection, _):
            pass
        streams.ended(connection)

    kept = {(c.group, c.stream) for c in streams._connections.values()}
    assert kept == {("g", "b"), ("g", "c")}  # the oldest went first
    expiring = PushStreams(window=10, keep_s=0, max_kept=10)
    async with expiring.opening("g", "x") as (connection, _):
        pass
    expiring.ended(connection)
    await asyncio.sleep(0.01)
    async with expiring.opening("g", "y") as (other, _):
        pass
    expiring.ended(other)
    assert ("g", "x") not in expiring._connections


async def test_gauges_count_live_connections_only() -> None:
    streams = PushStreams(window=10, keep_s=60, max_kept=10)
    async with streams.opening("g", "a") as (a, _):
        pass
    async with streams.opening("g", "b") as (b, _):
        pass
    a.buffered, a.writing, b.buffered = 7, True, 3
    assert (streams.connections(), streams.buffered_events(), streams.writing()) == (2, 10, 1)
    streams.ended(a)
    assert (streams.connections(), streams.buffered_events(), streams.writing()) == (1, 3, 0)

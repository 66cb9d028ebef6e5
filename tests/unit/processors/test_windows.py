from __future__ import annotations

import orjson
import pytest

from processors.windows import CloseSchedule, SessionMerge, StreamClock, Window, WindowPolicy, merge_session

MINUTE = 60_000


class TestTumbling:
    policy = WindowPolicy.tumbling(5 * MINUTE)

    def test_windows_are_epoch_aligned_and_half_open(self) -> None:
        assert self.policy.assign(0) == (Window(0, 5 * MINUTE),)
        assert self.policy.assign(5 * MINUTE - 1) == (Window(0, 5 * MINUTE),)
        assert self.policy.assign(5 * MINUTE) == (Window(5 * MINUTE, 10 * MINUTE),)

    def test_alignment_is_to_the_epoch_not_to_the_first_event(self) -> None:
        ts = 1_736_937_000_123  # 2025-01-15T10:30:00.123Z
        (window,) = self.policy.assign(ts)

        assert window.start % (5 * MINUTE) == 0
        assert window.start <= ts < window.end

    def test_closes_only_when_stream_time_passes_end_plus_grace(self) -> None:
        window = Window(0, 1000)
        graced = WindowPolicy.tumbling(1000, grace_ms=200)

        assert not self.policy.is_closed(window, 1000)
        assert self.policy.is_closed(window, 1001)
        assert not graced.is_closed(window, 1200)
        assert graced.is_closed(window, 1201)

    def test_late_means_closed(self) -> None:
        policy = WindowPolicy.tumbling(1000, grace_ms=100)

        assert not policy.is_late(Window(0, 1000), 1100)
        assert policy.is_late(Window(0, 1000), 1101)

    def test_result_timestamp_is_last_instant_of_the_window(self) -> None:
        assert self.policy.result_timestamp(Window(0, 5 * MINUTE)) == 5 * MINUTE - 1

    def test_negative_timestamps_are_rejected(self) -> None:
        with pytest.raises(ValueError, match="before the epoch"):
            self.policy.assign(-1)


class TestHopping:
    def test_an_event_belongs_to_every_window_containing_it(self) -> None:
        policy = WindowPolicy.hopping(10, 5)

        assert policy.assign(12) == (Window(5, 15), Window(10, 20))
        assert policy.assign(10) == (Window(5, 15), Window(10, 20))
        assert policy.assign(9) == (Window(0, 10), Window(5, 15))

    def test_uneven_advance(self) -> None:
        policy = WindowPolicy.hopping(10, 3)

        windows = policy.assign(10)
        assert windows == (Window(3, 13), Window(6, 16), Window(9, 19))
        assert all(w.start <= 10 < w.end for w in windows)

    def test_no_window_starts_before_the_epoch(self) -> None:
        assert WindowPolicy.hopping(10, 5).assign(3) == (Window(0, 10),)

    def test_advance_equal_to_size_is_tumbling(self) -> None:
        for ts in (0, 7, 10, 99):
            assert WindowPolicy.hopping(10, 10).assign(ts) == WindowPolicy.tumbling(10).assign(ts)

    def test_each_window_closes_on_its_own(self) -> None:
        policy = WindowPolicy.hopping(10, 5, grace_ms=2)
        older, newer = policy.assign(12)

        assert policy.is_closed(older, 18)
        assert not policy.is_closed(newer, 18)

    @pytest.mark.parametrize(("size", "advance"), [(10, 0), (10, 11), (0, 0)])
    def test_invalid_shapes(self, size: int, advance: int) -> None:
        with pytest.raises(ValueError, match="advance"):
            WindowPolicy.hopping(size, advance)


class TestSession:
    policy = WindowPolicy.session(10, grace_ms=5)

    def test_an_event_opens_a_one_point_session(self) -> None:
        assert self.policy.assign(42) == (Window(42, 42),)
        assert merge_session(42, [], 10) == SessionMerge(Window(42, 42), ())

    def test_event_within_gap_extends_the_session(self) -> None:
        merge = merge_session(30, [Window(10, 20)], 10)

        assert merge.window == Window(10, 30)
        assert merge.absorbed == (Window(10, 20),)

    def test_gap_is_inclusive(self) -> None:
        assert merge_session(30, [Window(10, 20)], 10).window == Window(10, 30)
        assert merge_session(31, [Window(10, 20)], 10).window == Window(31, 31)
        assert merge_session(0, [Window(10, 20)], 10).window == Window(0, 20)

    def test_out_of_order_event_bridging_two_sessions_merges_them(self) -> None:
        first, second = Window(0, 5), Window(20, 30)
        merge = merge_session(12, [second, first], 10)

        assert merge.window == Window(0, 30)
        assert merge.absorbed == (first, second)

    def test_event_inside_a_session_keeps_its_bounds(self) -> None:
        assert merge_session(15, [Window(10, 20)], 10).window == Window(10, 20)

    def test_unrelated_sessions_are_untouched(self) -> None:
        merge = merge_session(100, [Window(0, 5), Window(95, 98)], 1)

        assert merge.absorbed == ()
        assert merge.window == Window(100, 100)

    def test_closes_after_gap_and_grace(self) -> None:
        session = Window(0, 20)

        assert self.policy.close_time(session) == 35
        assert not self.policy.is_closed(session, 35)
        assert self.policy.is_closed(session, 36)

    def test_only_in_order_events_may_extend_a_session_during_its_gap(self) -> None:
        # Stream time 30: a session ending at 24 is still open (closes after 35), but an update to it must end
        # within grace (5 ms) of stream time, as in Kafka Streams.
        assert self.policy.is_late(Window(10, 24), 30)
        assert not self.policy.is_late(Window(10, 25), 30)
        assert not self.policy.is_closed(Window(10, 24), 30)

    def test_result_timestamp_is_the_last_event(self) -> None:
        assert self.policy.result_timestamp(Window(10, 20)) == 20

    def test_session_needs_a_gap(self) -> None:
        with pytest.raises(ValueError, match="gap"):
            WindowPolicy.session(0)


def test_emit_modes() -> None:
    changes = WindowPolicy.tumbling(10)
    final = WindowPolicy.tumbling(10, emit="final")

    assert (changes.emits_changes, changes.emits_final) == (True, False)
    assert (final.emits_changes, final.emits_final) == (False, True)


class TestStreamClock:
    def test_stream_time_is_the_max_seen_per_partition(self) -> None:
        clock = StreamClock()

        assert clock.observe(0, 100) == 100
        assert clock.observe(0, 50) == 100
        assert clock.observe(1, 10) == 10
        assert clock.observe(0, 150) == 150
        assert (clock.time(0), clock.time(1), clock.time(2)) == (150, 10, None)

    def test_state_survives_json(self) -> None:
        clock = StreamClock()
        clock.observe(3, 7)
        restored = StreamClock(orjson.loads(orjson.dumps(clock.state())))

        assert restored.time(3) == 7
        assert restored.observe(3, 5) == 7

    def test_idle_partition_advances_by_wall_clock_time(self) -> None:
        clock = StreamClock()
        clock.observe(0, 1000, wall_ms=50_000)

        assert clock.advance_if_idle(0, wall_ms=50_999, idle_after_ms=1000) is None
        assert clock.advance_if_idle(0, wall_ms=51_500, idle_after_ms=1000) == 2500
        assert clock.advance_if_idle(0, wall_ms=52_000, idle_after_ms=1000) is None
        assert clock.advance_if_idle(1, wall_ms=99_000, idle_after_ms=1000) is None


class TestCloseSchedule:
    def test_due_items_come_out_in_deadline_order_once(self) -> None:
        schedule: CloseSchedule[str] = CloseSchedule()
        schedule.schedule("b", 20)
        schedule.schedule("a", 10)
        schedule.schedule("c", 30)

        assert schedule.due(10) == []
        assert schedule.due(21) == ["a", "b"]
        assert schedule.due(21) == []
        assert len(schedule) == 1

    def test_rescheduling_replaces_the_deadline(self) -> None:
        schedule: CloseSchedule[str] = CloseSchedule()
        schedule.schedule("session", 10)
        schedule.schedule("session", 40)

        assert schedule.due(20) == []
        assert schedule.due(41) == ["session"]

    def test_cancelled_items_never_come_due(self) -> None:
        schedule: CloseSchedule[str] = CloseSchedule()
        schedule.schedule("x", 10)
        schedule.cancel("x")

        assert schedule.due(100) == []
        assert len(schedule) == 0

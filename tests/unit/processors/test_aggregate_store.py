from __future__ import annotations

from typing import Any

import orjson

from processors.aggregate_store import Result, Update, WindowedAggregate
from processors.compiler import compile_processor
from processors.events import Event
from processors.executor import DeadLetter, Grouped
from processors.functions import FunctionRegistry
from processors.plan import AggregateStage
from processors.windows import Window
from schemas.processors import ProcessorSpec
from tests.unit.processors.specs import spec_document

REGISTRY = FunctionRegistry.load(installed=[])


def stage_of(window: dict[str, Any] | None, aggregation: str = "count", field: str | None = None) -> AggregateStage:
    aggregate: dict[str, Any] = {"type": "aggregate", "aggregation": aggregation, "groupBy": "userId"}
    if field is not None:
        aggregate["field"] = field
    operations = [aggregate] if window is None else [{"type": "window", **window}, aggregate]
    stage = compile_processor(ProcessorSpec.model_validate(spec_document(*operations)), REGISTRY).aggregate
    assert stage is not None
    return stage


class Feed:
    """Drives a WindowedAggregate like the runtime would, with a dict as the table. Final results are released
    as soon as they come out (the runtime releases them once they are in the sink) unless ``deliver`` is off."""

    def __init__(self, stage: AggregateStage, store: dict[Any, Any] | None = None, *, deliver: bool = True) -> None:
        self.stage = stage
        self.store: dict[Any, Any] = {} if store is None else store
        self.aggregate = WindowedAggregate(stage, self.store, partition=0)
        self.offset = -1
        self.deliver = deliver

    def send(self, key: str, time: int, measure: Any = 1, offset: int | None = None) -> Update:
        self.offset = self.offset + 1 if offset is None else offset
        grouped = Grouped(Event({"userId": key}, key=key, timestamp=time), key, time, measure)
        update = self.aggregate.apply(grouped, self.offset)
        if self.deliver and self.stage.window is not None and self.stage.window.emits_final:
            for result in update.results:
                self.aggregate.release(result)
        return update


def restart(feed: Feed) -> tuple[Feed, tuple[Result, ...]]:
    """The table comes back from its changelog: JSON all the way, tuple keys restored by the runtime's codec."""
    changelog = [(orjson.dumps(list(key)), orjson.dumps(value)) for key, value in feed.store.items()]
    restored = {tuple(orjson.loads(key)): orjson.loads(value) for key, value in changelog}
    again = Feed(feed.stage, restored, deliver=feed.deliver)
    again.offset = feed.offset
    return again, again.aggregate.recover(list(restored))


def counts(results: tuple[Result, ...]) -> list[tuple[str, int, int, int]]:
    return [(str(r.group_key), r.value["windowStart"], r.value["windowEnd"], r.value["count"]) for r in results]


def test_emit_changes_sends_every_update() -> None:
    feed = Feed(stage_of({"windowType": "tumbling", "duration": 10}))

    assert counts(feed.send("a", 1).results) == [("a", 0, 10, 1)]
    assert counts(feed.send("a", 5).results) == [("a", 0, 10, 2)]
    update = feed.send("b", 12)
    assert counts(update.results) == [("b", 10, 20, 1)]
    assert update.results[0].value == {"windowStart": 10, "windowEnd": 20, "userId": "b", "count": 1}
    assert update.results[0].timestamp == 19


def test_emit_final_sends_one_result_per_window_after_close() -> None:
    feed = Feed(stage_of({"windowType": "tumbling", "duration": 10, "grace": 5, "emit": "final"}))

    assert feed.send("a", 1).results == ()
    assert feed.send("a", 9).results == ()
    assert feed.send("b", 15).results == ()  # stream time 15 = end + grace: not yet closed
    assert feed.send("a", 3).late == ()  # within grace, still counted
    update = feed.send("b", 16)
    assert counts(update.results) == [("a", 0, 10, 3)]
    assert update.results[0].timestamp == 9
    assert ("a", 0) not in feed.store  # closed windows leave the store
    assert counts(feed.send("b", 40).results) == [("b", 10, 20, 2)]
    assert counts(feed.send("c", 100).results) == [("b", 40, 50, 1)]


def test_late_events_are_refused_and_never_change_a_final_result() -> None:
    feed = Feed(stage_of({"windowType": "tumbling", "duration": 10, "emit": "final"}))
    feed.send("a", 1)
    (final,) = feed.send("a", 11).results

    late = feed.send("a", 2)
    assert late.late == (Window(0, 10),)
    assert late.results == ()
    assert final.value["count"] == 1
    assert ("a", 0) not in feed.store


def test_hopping_updates_every_window_and_reports_only_the_closed_ones_as_late() -> None:
    feed = Feed(stage_of({"windowType": "hopping", "duration": 10, "advance": 5}))

    assert counts(feed.send("a", 7).results) == [("a", 0, 10, 1), ("a", 5, 15, 1)]
    feed.send("b", 12)
    update = feed.send("a", 9)  # [0, 10) closed at stream time 12; [5, 15) still open
    assert update.late == (Window(0, 10),)
    assert counts(update.results) == [("a", 5, 15, 2)]


def test_session_windows_merge_when_an_event_bridges_them() -> None:
    feed = Feed(stage_of({"windowType": "session", "gap": 10, "grace": 100, "emit": "final"}))
    feed.send("a", 0)
    feed.send("a", 20)
    assert sorted(k for k in feed.store if k[0] == "a") == [("a", 0), ("a", 20)]

    feed.send("a", 10)  # within 10 of both sessions
    assert sorted(k for k in feed.store if k[0] == "a") == [("a", 0)]
    assert feed.store[("a", 0)] == {"end": 20, "state": 3}

    assert feed.send("b", 130).results == ()  # closes after end + gap + grace = 130
    (final,) = feed.send("b", 131).results
    assert (final.window, final.value["count"], final.timestamp) == (Window(0, 20), 3, 20)


def test_session_changes_mode_reports_the_merged_session() -> None:
    feed = Feed(stage_of({"windowType": "session", "gap": 5}))
    feed.send("a", 0)

    assert counts(feed.send("a", 4).results) == [("a", 0, 4, 2)]
    assert counts(feed.send("a", 10).results) == [("a", 10, 10, 1)]


def test_session_sums_merge_their_states() -> None:
    feed = Feed(stage_of({"windowType": "session", "gap": 10, "grace": 50}, "sum", "amount"))
    feed.send("a", 0, measure=2)
    feed.send("a", 20, measure=3)

    (result,) = feed.send("a", 10, measure=4).results
    assert (result.window, result.value["sum"]) == (Window(0, 20), 9)


def test_replayed_events_are_not_counted_twice_after_a_restart() -> None:
    stage = stage_of({"windowType": "tumbling", "duration": 10, "emit": "final"})
    feed = Feed(stage)
    feed.send("a", 1)
    feed.send("a", 2)

    again, unreleased = restart(feed)

    assert unreleased == ()
    assert again.send("a", 2, offset=1).replayed
    (final,) = again.send("b", 30, offset=2).results
    assert final.value["count"] == 2


def test_unwindowed_aggregate_keeps_a_running_result() -> None:
    feed = Feed(stage_of(None, "max", "amount"))
    feed.send("a", 5, measure=3)

    (result,) = feed.send("a", 7, measure=9).results
    assert result.value == {"userId": "a", "max": 9}
    assert (result.window, result.timestamp) == (None, 7)


def test_advance_to_closes_idle_windows() -> None:
    feed = Feed(stage_of({"windowType": "tumbling", "duration": 10, "emit": "final"}))
    feed.send("a", 3)

    assert feed.aggregate.advance_to(10) == ()
    assert counts(feed.aggregate.advance_to(11)) == [("a", 0, 10, 1)]
    assert feed.aggregate.advance_to(5) == ()


def test_aggregation_errors_leave_the_store_untouched() -> None:
    feed = Feed(stage_of({"windowType": "hopping", "duration": 10, "advance": 5}, "min", "x"))
    feed.send("a", 7, measure=1)
    before = dict(feed.store)

    update = feed.send("a", 8, measure="text")
    assert isinstance(update.failure, DeadLetter)
    assert update.failure.index == 1
    assert "cannot compare" in update.failure.error
    assert {k: v for k, v in feed.store.items() if k[0] is not None} == {
        k: v for k, v in before.items() if k[0] is not None
    }


def test_stream_time_and_offset_are_stored() -> None:
    feed = Feed(stage_of({"windowType": "tumbling", "duration": 10}))
    feed.send("a", 8)
    feed.send("a", 3)

    assert feed.store[(None, 0)] == {"streamTime": 8, "appliedOffset": 1}
    assert WindowedAggregate(feed.stage, feed.store, partition=0).stream_time_ms == 8


def test_a_final_result_stays_in_the_store_until_released() -> None:
    feed = Feed(stage_of({"windowType": "tumbling", "duration": 10, "emit": "final"}), deliver=False)
    feed.send("a", 1)
    (final,) = feed.send("b", 11).results

    assert feed.store[("a", 0)] == {"end": 10, "final": {"value": final.value, "timestamp": 9}}
    feed.aggregate.note(final, sink="out", partition=2, after=40)
    assert feed.aggregate.delivery(final) == {"sink": "out", "partition": 2, "after": 40}
    assert counts(feed.send("b", 30).results) == [("b", 10, 20, 1)]  # other windows close as usual
    feed.aggregate.release(final)
    assert ("a", 0) not in feed.store
    assert feed.aggregate.delivery(final) == {}


def test_a_restart_hands_back_unreleased_finals_and_never_recomputes_them() -> None:
    feed = Feed(stage_of({"windowType": "tumbling", "duration": 10, "emit": "final"}), deliver=False)
    feed.send("a", 1)
    feed.send("a", 2)
    (final,) = feed.send("b", 11).results
    feed.aggregate.note(final, sink="out", partition=0, after=7)

    again, unreleased = restart(feed)

    assert unreleased == (final,)
    assert again.aggregate.delivery(final) == {"sink": "out", "partition": 0, "after": 7}
    # The state write of the crash may have been lost with the offsets: the closing event comes again, and so may
    # events of the closed window. Neither closes or changes it a second time.
    again.store[(None, 0)] = {"streamTime": 2, "appliedOffset": 1}
    again.aggregate.stream_time_ms, again.aggregate.applied_offset = 2, 1
    assert again.send("a", 3, offset=2).results == ()
    assert again.send("b", 11, offset=3).results == ()
    assert again.store[("a", 0)]["final"]["value"]["count"] == 2


def grouped(key: str, time: int) -> Grouped:
    return Grouped(Event({"userId": key}, key=key, timestamp=time), key, time, 1)


def test_a_replayed_event_finds_the_latest_values_of_its_open_windows() -> None:
    feed = Feed(stage_of({"windowType": "hopping", "duration": 10, "advance": 5}))
    feed.send("a", 7)
    feed.send("a", 8)

    assert counts(feed.aggregate.current(grouped("a", 7))) == [("a", 0, 10, 2), ("a", 5, 15, 2)]
    feed.send("b", 12)  # closes [0, 10)
    assert counts(feed.aggregate.current(grouped("a", 7))) == [("a", 5, 15, 2)]
    assert feed.aggregate.current(grouped("c", 7)) == ()


def test_current_values_of_sessions_and_of_an_unwindowed_aggregate() -> None:
    sessions = Feed(stage_of({"windowType": "session", "gap": 10, "grace": 100}))
    sessions.send("a", 0)
    sessions.send("a", 5)
    assert [(r.window, r.value["count"]) for r in sessions.aggregate.current(grouped("a", 5))] == [(Window(0, 5), 2)]

    running = Feed(stage_of(None, "sum", "amount"))
    running.send("a", 1, measure=4)
    running.send("a", 2, measure=5)
    (result,) = running.aggregate.current(grouped("a", 2))
    assert result.value == {"userId": "a", "sum": 9}


def test_source_offsets_are_stored_with_the_state_and_survive_a_restart() -> None:
    feed = Feed(stage_of({"windowType": "tumbling", "duration": 10}))
    feed.aggregate.apply(grouped("a", 1), 0, source=(2, 40))
    feed.aggregate.apply(grouped("a", 2), 1, source=(0, 7))

    assert feed.store[(None, 0)] == {"streamTime": 2, "appliedOffset": 1, "sources": {"2": 40, "0": 7}}
    again, _ = restart(feed)
    assert again.aggregate.source_applied(2) == 40
    assert again.aggregate.source_applied(0) == 7
    assert again.aggregate.source_applied(1) == -1
    # Marks kept elsewhere by an earlier release: the later offset wins, and the next event stores them.
    again.aggregate.adopt_sources({2: 30, 1: 5})
    again.aggregate.apply(grouped("a", 3), 2, source=(0, 8))
    assert again.store[(None, 0)]["sources"] == {"2": 40, "0": 8, "1": 5}


def test_a_replayed_event_does_not_move_its_source_offset() -> None:
    feed = Feed(stage_of({"windowType": "tumbling", "duration": 10}))
    feed.aggregate.apply(grouped("a", 1), 0, source=(0, 40))
    assert feed.aggregate.apply(grouped("a", 1), 0, source=(0, 41)).replayed
    assert feed.aggregate.source_applied(0) == 40
    assert feed.aggregate.advance_to(50) == ()
    assert feed.store[(None, 0)] == {"streamTime": 50, "appliedOffset": 0, "sources": {"0": 40}}

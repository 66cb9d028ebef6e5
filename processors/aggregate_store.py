"""The aggregate stage's state transitions over a plain key-value store (a Faust table in production, a dict in
tests), one instance per partition of the aggregate's input.

Store layout, all values JSON-safe:

- ``(group_key, window_start)`` → ``{"end": window_end, "state": aggregator state}``; ``window_start`` is None for
  an unwindowed aggregate.
- ``(None, partition)`` → ``{"streamTime": ms, "appliedOffset": offset, "sources": {source partition: offset}}``.
  Group keys are never null, so this key cannot collide. Because it is written with the state it describes, an
  event replayed after a restart (offset ≤ appliedOffset) is recognised and ignored instead of being counted twice
  or reported late. ``sources`` holds the last *source* offset applied from each source partition (given to
  ``apply``), which recognises an event that stage 1 forwarded again with a new offset; it is left out while empty.

Closed windows are removed from the store, so state stays bounded. Under ``emit: final`` a closing window's entry
is first replaced by its result, ``{"end": window_end, "final": {"value": …, "timestamp": ms}}``, and removed by
``release`` once the runtime has the result safely in the sink. A restart finds such entries through ``recover``
and settles them (sent before the crash or not) instead of computing the result again, so a final result is sent
once even when the crash fell between the sink write and the state write.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from processors.aggregations import AggregationError
from processors.executor import DeadLetter, Dropped, Failed, Grouped, GroupKey, failure
from processors.plan import AggregateStage
from processors.windows import CloseSchedule, Window, WindowPolicy, merge_session

StoreKey = tuple[Any, Any]

# "Start from the stored state"; a sentinel because None is itself a state (min/max before any value).
_STORED: Any = object()


@dataclass(frozen=True, slots=True)
class Result:
    """A record for the sink (or the plan's ``after`` steps): key = ``group_key``, value, timestamp in ms."""

    group_key: GroupKey
    window: Window | None
    value: dict[str, Any]
    timestamp: int


@dataclass(frozen=True, slots=True)
class Update:
    """What one event did. ``late`` lists the windows it was refused from (dead-letter the event once, with reason
    ``late``, when non-empty). ``replayed`` means the event was already applied before a restart. ``failure`` is
    set when the aggregation refused the event (e.g. ``min`` over a string after numbers); nothing was stored."""

    results: tuple[Result, ...]
    late: tuple[Window, ...]
    stream_time_ms: int | None
    replayed: bool = False
    failure: Dropped | DeadLetter | Failed | None = None


class WindowedAggregate:
    """Apply grouped events (``Executor.group``) to the store and say what to emit.

    Under ``emit: changes`` every updated window yields a result at once; under ``emit: final`` results come only
    from closing, which ``apply`` and ``advance_to`` both perform. Call ``recover`` with this partition's store keys
    after a restart to rebuild the close schedule, which is kept in memory.
    """

    def __init__(self, stage: AggregateStage, store: MutableMapping[Any, Any], partition: int) -> None:
        self.stage = stage
        self.store = store
        self._meta_key: StoreKey = (None, partition)
        meta = store.get(self._meta_key) or {}
        self.stream_time_ms: int | None = meta.get("streamTime")
        self.applied_offset: int = meta.get("appliedOffset", -1)
        self.sources: dict[int, int] = {int(p): o for p, o in (meta.get("sources") or {}).items()}
        self._schedule: CloseSchedule[StoreKey] = CloseSchedule()
        self._sessions: dict[GroupKey, set[int]] = {}

    def recover(self, keys: Iterable[StoreKey]) -> tuple[Result, ...]:
        """Re-register the windows stored under ``keys`` (this partition's keys of the store); returns the final
        results that were closed but not released before the restart, for the runtime to settle."""
        policy = self.stage.window
        if policy is None:
            return ()
        unreleased = []
        for key in keys:
            group_key, start = key
            entry = self.store.get(key) if group_key is not None and start is not None else None
            if entry is None:
                continue
            window = Window(start, entry["end"])
            final = entry.get("final")
            if final is None:
                self._track(group_key, window, policy)
            else:
                unreleased.append(Result(group_key, window, final["value"], final["timestamp"]))
        return tuple(unreleased)

    def current(self, grouped: Grouped) -> tuple[Result, ...]:
        """The stored results of the open windows an already-applied event belongs to. Under ``emit: changes`` a
        replay after a crash sends these again: the table may have kept the event's effect while its output was
        lost, and the latest value is what a reader of changes needs (at-least-once)."""
        policy = self.stage.window
        key, time = grouped.group_key, grouped.event_time_ms
        if policy is None:
            windows: list[Window | None] = [None]
        elif policy.kind == "session":
            starts = sorted(self._sessions.get(key, ()))
            sessions = [Window(start, self.store[(key, start)]["end"]) for start in starts]
            windows = [w for w in sessions if w.start <= time <= w.end]
        else:
            windows = list(policy.assign(time))
        results = []
        for window in windows:
            entry = self.store.get((key, None if window is None else window.start))
            if entry is not None and "state" in entry:
                results.append(self._result(key, window, entry["state"], time))
        return tuple(results)

    def note(self, result: Result, **details: Any) -> None:
        """Store ``details`` (how the result is being delivered) with a closed window's unreleased result."""
        assert result.window is not None  # noqa: S101 - only final results are noted
        key = (result.group_key, result.window.start)
        entry = self.store.get(key)
        if entry is not None and "final" in entry:
            self.store[key] = {**entry, "final": {**entry["final"], **details}}

    def delivery(self, result: Result) -> dict[str, Any]:
        """What ``note`` stored for a closed window's result (empty when nothing was noted)."""
        assert result.window is not None  # noqa: S101 - only final results are noted
        entry = self.store.get((result.group_key, result.window.start)) or {}
        final: dict[str, Any] = entry.get("final") or {}
        return {k: v for k, v in final.items() if k not in ("value", "timestamp")}

    def release(self, result: Result) -> None:
        """Forget a closed window once its final result is safely delivered (or needs no delivery)."""
        assert result.window is not None  # noqa: S101 - only final results are released
        key = (result.group_key, result.window.start)
        entry = self.store.get(key)
        if entry is not None and "final" in entry:
            del self.store[key]

    def source_applied(self, source_partition: int) -> int:
        """The last source offset of ``source_partition`` applied here (-1 for none)."""
        return self.sources.get(source_partition, -1)

    def adopt_sources(self, applied: dict[int, int]) -> None:
        """Take source offsets kept elsewhere (by an earlier release, outside the meta entry); the later wins.
        Stored with the next event."""
        for partition, offset in applied.items():
            self.sources[partition] = max(offset, self.source_applied(partition))

    def apply(self, grouped: Grouped, offset: int, source: tuple[int, int] | None = None) -> Update:
        """Apply the event at ``offset`` of this partition's input; ``source`` is its (partition, offset) in the
        source stream when the input is a repartition topic, recorded in the same write as the state."""
        if offset <= self.applied_offset:
            return Update((), (), self.stream_time_ms, replayed=True)
        time = grouped.event_time_ms
        self.stream_time_ms = time if self.stream_time_ms is None else max(self.stream_time_ms, time)
        self.applied_offset = offset
        if source is not None:
            self.sources[source[0]] = max(source[1], self.source_applied(source[0]))
        policy = self.stage.window
        late: list[Window] = []
        changed: list[Result] = []
        try:
            if policy is None:
                changed = self._write([((grouped.group_key, None), None, _STORED, grouped.measure)], time)
            elif policy.kind == "session":
                changed, late = self._apply_session(grouped, policy)
            else:
                windows = policy.assign(time)
                late = [window for window in windows if policy.is_late(window, self.stream_time_ms)]
                updates = [
                    ((grouped.group_key, w.start), w, _STORED, grouped.measure) for w in windows if w not in late
                ]
                changed = self._write(updates, time)
        except AggregationError as exc:
            failed: Dropped | DeadLetter | Failed | None = failure(self.stage.index, self.stage.on_error, str(exc))
        else:
            failed = None
        results = [result for result in changed if policy is None or policy.emits_changes]
        results += self._close_due()
        self._store_meta()
        return Update(tuple(results), tuple(late), self.stream_time_ms, failure=failed)

    def _store_meta(self) -> None:
        meta: dict[str, Any] = {"streamTime": self.stream_time_ms, "appliedOffset": self.applied_offset}
        if self.sources:
            meta["sources"] = {str(partition): offset for partition, offset in self.sources.items()}
        self.store[self._meta_key] = meta

    def advance_to(self, stream_time_ms: int) -> tuple[Result, ...]:
        """Move stream time forward without an event (``idleCloseAfter``) and close what is due."""
        if self.stream_time_ms is not None and stream_time_ms <= self.stream_time_ms:
            return ()
        self.stream_time_ms = stream_time_ms
        results = self._close_due()
        self._store_meta()
        return tuple(results)

    def _apply_session(self, grouped: Grouped, policy: WindowPolicy) -> tuple[list[Result], list[Window]]:
        key = grouped.group_key
        stored = [Window(start, self.store[(key, start)]["end"]) for start in sorted(self._sessions.get(key, ()))]
        merge = merge_session(grouped.event_time_ms, stored, policy.gap_ms)
        if policy.is_late(merge.window, self.stream_time_ms or 0):
            return [], [merge.window]
        aggregator = self.stage.aggregator
        state = aggregator.initial()
        for absorbed in merge.absorbed:
            state = aggregator.merge(state, self.store[(key, absorbed.start)]["state"])
        changed = self._write(
            [((key, merge.window.start), merge.window, state, grouped.measure)], grouped.event_time_ms
        )
        for absorbed in merge.absorbed:
            if absorbed.start != merge.window.start:
                del self.store[(key, absorbed.start)]
            self._untrack(key, absorbed)
        self._track(key, merge.window, policy)
        return changed, []

    def _write(self, updates: Sequence[tuple[StoreKey, Window | None, Any, Any]], event_time_ms: int) -> list[Result]:
        # Every new state is computed before any is stored, so an aggregation error leaves the store untouched.
        aggregator = self.stage.aggregator
        staged = []
        for store_key, window, given, measure in updates:
            entry = self.store.get(store_key)
            if entry is not None and "final" in entry:
                # Closed with its result already out: only an event replayed after a restart gets here (its
                # offset was applied before the crash), and the result already includes it.
                continue
            stored = aggregator.initial() if entry is None else entry["state"]
            base = stored if given is _STORED else given
            staged.append((store_key, window, entry is None, aggregator.add(base, measure)))
        results = []
        for store_key, window, created, state in staged:
            self.store[store_key] = {"end": None if window is None else window.end, "state": state}
            if created and window is not None and self.stage.window is not None:
                self._track(store_key[0], window, self.stage.window)
            results.append(self._result(store_key[0], window, state, event_time_ms))
        return results

    def _track(self, group_key: GroupKey, window: Window, policy: WindowPolicy) -> None:
        self._schedule.schedule((group_key, window.start), policy.close_time(window))
        if policy.kind == "session":
            self._sessions.setdefault(group_key, set()).add(window.start)

    def _untrack(self, group_key: GroupKey, window: Window) -> None:
        self._schedule.cancel((group_key, window.start))
        starts = self._sessions.get(group_key)
        if starts is not None:
            starts.discard(window.start)
            if not starts:
                del self._sessions[group_key]

    def _close_due(self) -> list[Result]:
        policy = self.stage.window
        if policy is None or self.stream_time_ms is None:
            return []
        results = []
        for group_key, start in self._schedule.due(self.stream_time_ms):
            entry = self.store.get((group_key, start))
            if entry is None or "final" in entry:
                continue
            window = Window(start, entry["end"])
            self._untrack(group_key, window)
            if policy.emits_final:
                result = self._result(group_key, window, entry["state"], policy.result_timestamp(window))
                self.store[(group_key, start)] = {
                    "end": window.end,
                    "final": {"value": result.value, "timestamp": result.timestamp},
                }
                results.append(result)
            else:
                del self.store[(group_key, start)]
        return results

    def _result(self, group_key: GroupKey, window: Window | None, state: Any, fallback_ms: int) -> Result:
        policy = self.stage.window
        timestamp = fallback_ms if policy is None or window is None else policy.result_timestamp(window)
        return Result(group_key, window, self.stage.result_value(group_key, window, state), timestamp)

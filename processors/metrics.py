"""A worker's counters and the snapshot it publishes to the metrics topic (pure; the runtime sends it).

Definitions (the README repeats them):
- `throughput`: events processed per second over the worker's last reporting interval.
- `avgLatencyMs`: over the same interval, the mean of (time the worker finished an event - the record's Kafka
  timestamp). For events produced through the gateway without an explicit timestamp, that is end-to-end
  latency from the gateway's receipt to the end of processing.
- `lag`: source records not yet processed: the partition's end offset minus the next offset to process (at
  least the log start offset), summed over the worker's source partitions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from processors.windows import Window
from schemas.processor_api import Counters, MetricsSnapshot, OpenWindow, WorkerStatus

_MAX_REPORTED_WINDOWS = 50


@dataclass
class WorkerMetrics:
    events_in: int = 0
    events_processed: int = 0
    events_filtered: int = 0
    events_emitted: int = 0
    late_events: int = 0
    dlq_events: int = 0
    errors: int = 0
    last_event_at: int | None = None
    windows: dict[tuple[int, int], int] = field(default_factory=dict)
    _interval_started: float = field(default_factory=time.monotonic)
    _interval_events: int = 0
    _interval_latency_ms: float = 0.0

    def processed(self, record_timestamp_ms: int, now_ms: int | None = None) -> None:
        now = int(time.time() * 1000) if now_ms is None else now_ms
        self.events_processed += 1
        self.last_event_at = now
        self._interval_events += 1
        self._interval_latency_ms += max(0, now - record_timestamp_ms)

    def count_windows(self, windows: list[Window], stream_time_ms: int | None) -> None:
        """Count an event into the open windows it was assigned to; forget windows that ended."""
        for window in windows:
            key = (window.start, window.end)
            self.windows[key] = self.windows.get(key, 0) + 1
        if stream_time_ms is not None and len(self.windows) > _MAX_REPORTED_WINDOWS:
            for key in sorted(self.windows)[: len(self.windows) - _MAX_REPORTED_WINDOWS]:
                del self.windows[key]

    def snapshot(
        self, *, processor_id: str, version: int, worker: str, status: WorkerStatus, reason: str | None, lag: int
    ) -> MetricsSnapshot:
        """The snapshot for the interval since the previous one (which this call closes)."""
        now = time.monotonic()
        elapsed = max(now - self._interval_started, 1e-3)
        events = self._interval_events
        snapshot = MetricsSnapshot(
            processor_id=processor_id,
            version=version,
            worker=worker,
            status=status,
            reason=reason,
            at=int(time.time() * 1000),
            interval_ms=max(1, int(elapsed * 1000)),
            counters=Counters(
                events_in=self.events_in,
                events_processed=self.events_processed,
                events_filtered=self.events_filtered,
                events_emitted=self.events_emitted,
                late_events=self.late_events,
                dlq_events=self.dlq_events,
                errors=self.errors,
            ),
            throughput=events / elapsed,
            avg_latency_ms=self._interval_latency_ms / events if events else 0.0,
            lag=lag,
            last_event_at=self.last_event_at,
            windows=[
                OpenWindow(window_start=start, window_end=end, events_count=count)
                for (start, end), count in sorted(self.windows.items())
            ],
        )
        self._interval_started, self._interval_events, self._interval_latency_ms = now, 0, 0.0
        return snapshot

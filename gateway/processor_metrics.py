"""Aggregating worker metric snapshots into one processor's status and numbers. Pure: no I/O, no clock.

Only snapshots of the processor's current spec version count. Each worker contributes its latest snapshot.
Two sets matter:

- *all* workers of the version: their cumulative counters are summed (a worker that was replaced still counts
  what it processed, as long as its snapshot is within the metrics topic's retention);
- *current* workers: those whose latest snapshot is at most ``stale_after_ms`` older than the newest snapshot
  of the version. Gauges (throughput, lag, latency, open windows) and the failed check use only these, so a
  worker that died and was replaced stops counting once its replacement has reported for a while.

Status, in order: ``paused`` (desired paused); ``pending`` (no snapshot of this version yet); ``failed`` (a current
worker's latest snapshot is failed; ``reason`` says why); ``stale`` (the newest snapshot is older than
``stale_after_ms``); ``running`` (a fresh running snapshot); else ``pending`` (workers are starting).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.timefmt import iso_ms
from schemas.processor_api import STALE_AFTER_MS, Counters, Desired, MetricsSnapshot

Status = Literal["pending", "running", "failed", "paused", "stale"]


@dataclass(frozen=True, slots=True)
class WindowCount:
    start_ms: int
    end_ms: int
    events: int


@dataclass(frozen=True, slots=True)
class ProcessorMetrics:
    status: Status
    reason: str | None = None
    counters: Counters = field(default_factory=Counters)
    throughput: float = 0.0
    avg_latency_ms: float = 0.0
    lag: int = 0
    last_event_at: int | None = None
    windows: tuple[WindowCount, ...] = ()
    workers: tuple[MetricsSnapshot, ...] = ()

    @property
    def error_rate(self) -> float:
        """Errors per event read; 0 when nothing was read."""
        events_in = self.counters.events_in
        return self.counters.errors / events_in if events_in else 0.0


def latest_per_worker(snapshots: Iterable[MetricsSnapshot], version: int) -> list[MetricsSnapshot]:
    """Each worker's newest snapshot of ``version``, ordered by worker id."""
    latest: dict[str, MetricsSnapshot] = {}
    for snapshot in snapshots:
        if snapshot.version != version:
            continue
        held = latest.get(snapshot.worker)
        if held is None or snapshot.at >= held.at:
            latest[snapshot.worker] = snapshot
    return [latest[worker] for worker in sorted(latest)]


def aggregate(
    snapshots: Iterable[MetricsSnapshot],
    *,
    version: int,
    desired: Desired,
    now_ms: int,
    stale_after_ms: int = STALE_AFTER_MS,
) -> ProcessorMetrics:
    """The processor's status and metrics at ``now_ms`` from its workers' snapshots (any order, any version)."""
    workers = latest_per_worker(snapshots, version)
    if not workers:
        return ProcessorMetrics(status="paused" if desired == "paused" else "pending")
    newest = max(w.at for w in workers)
    current = [w for w in workers if w.at >= newest - stale_after_ms]
    status, reason = _status(current, desired=desired, newest=newest, now_ms=now_ms, stale_after_ms=stale_after_ms)
    weights = [w.throughput * w.interval_ms / 1000 for w in current]
    total_weight = sum(weights)
    latency = sum(w.avg_latency_ms * weight for w, weight in zip(current, weights, strict=True))
    last_events = [w.last_event_at for w in workers if w.last_event_at is not None]
    return ProcessorMetrics(
        status=status,
        reason=reason,
        counters=_sum_counters(w.counters for w in workers),
        throughput=sum(w.throughput for w in current),
        avg_latency_ms=latency / total_weight if total_weight > 0 else 0.0,
        lag=sum(w.lag for w in current),
        last_event_at=max(last_events) if last_events else None,
        windows=_merge_windows(current),
        workers=tuple(workers),
    )


def _status(
    current: list[MetricsSnapshot], *, desired: Desired, newest: int, now_ms: int, stale_after_ms: int
) -> tuple[Status, str | None]:
    if desired == "paused":
        return "paused", None
    failed = sorted((w for w in current if w.status == "failed"), key=lambda w: w.at, reverse=True)
    if failed:
        return "failed", failed[0].reason or f"worker {failed[0].worker} failed without a reason"
    if newest < now_ms - stale_after_ms:
        return "stale", None
    if any(w.status == "running" and w.at >= now_ms - stale_after_ms for w in current):
        return "running", None
    return "pending", None


def _sum_counters(all_counters: Iterable[Counters]) -> Counters:
    totals: dict[str, int] = dict.fromkeys(Counters.model_fields, 0)
    for counters in all_counters:
        for name in totals:
            totals[name] += getattr(counters, name)
    return Counters(**totals)


def _merge_windows(workers: Iterable[MetricsSnapshot]) -> tuple[WindowCount, ...]:
    # Workers own disjoint partitions, so the same window on two workers holds different events: add them up.
    counts: dict[tuple[int, int], int] = {}
    for worker in workers:
        for window in worker.windows:
            bounds = (window.window_start, window.window_end)
            counts[bounds] = counts.get(bounds, 0) + window.events_count
    return tuple(WindowCount(start, end, events) for (start, end), events in sorted(counts.items()))


def _iso(epoch_ms: int | None) -> str | None:
    return None if epoch_ms is None else iso_ms(epoch_ms)


def summary_document(metrics: ProcessorMetrics) -> dict[str, Any]:
    """The short form embedded in processor documents."""
    return {
        "eventsProcessed": metrics.counters.events_processed,
        "throughput": round(metrics.throughput, 3),
        "lag": metrics.lag,
    }


def metrics_document(processor_id: str, version: int, metrics: ProcessorMetrics) -> dict[str, Any]:
    """The body of ``GET /api/v1/processors/{id}/metrics``."""
    counters = metrics.counters
    document: dict[str, Any] = {"processorId": processor_id, "version": version, "status": metrics.status}
    if metrics.reason is not None:
        document["reason"] = metrics.reason
    document["metrics"] = {
        "eventsIn": counters.events_in,
        "eventsProcessed": counters.events_processed,
        "throughput": round(metrics.throughput, 3),
        "avgLatency": round(metrics.avg_latency_ms, 3),
        "lag": metrics.lag,
        "errorRate": round(metrics.error_rate, 6),
        "errors": counters.errors,
        "eventsEmitted": counters.events_emitted,
        "eventsFiltered": counters.events_filtered,
        "lateEvents": counters.late_events,
        "dlqEvents": counters.dlq_events,
        "lastEventAt": _iso(metrics.last_event_at),
    }
    document["windows"] = [
        {"windowStart": iso_ms(w.start_ms), "windowEnd": iso_ms(w.end_ms), "eventsCount": w.events}
        for w in metrics.windows
    ]
    document["workers"] = [_worker_document(w) for w in metrics.workers]
    return document


def _worker_document(worker: MetricsSnapshot) -> dict[str, Any]:
    document: dict[str, Any] = {"worker": worker.worker, "status": worker.status, "at": iso_ms(worker.at)}
    if worker.reason is not None:
        document["reason"] = worker.reason
    return document

"""Aggregating worker snapshots into a processor's status and numbers (gateway/processor_metrics.py)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.processor_metrics import aggregate, latest_per_worker, metrics_document, summary_document
from schemas.processor_api import STALE_AFTER_MS, MetricsSnapshot

NOW = 1_700_000_000_000


def snap(worker: str = "h:1:0", *, at: int = NOW - 1000, version: int = 1, **fields: Any) -> MetricsSnapshot:
    document: dict[str, Any] = {
        "processorId": "proc_000000000001",
        "version": version,
        "worker": worker,
        "status": "running",
        "at": at,
        "intervalMs": 2000,
    }
    document.update(fields)
    return MetricsSnapshot.model_validate(document)


def counters(**values: int) -> dict[str, int]:
    return values


def test_no_snapshots_is_pending_or_paused() -> None:
    assert aggregate([], version=1, desired="running", now_ms=NOW).status == "pending"
    assert aggregate([], version=1, desired="paused", now_ms=NOW).status == "paused"


def test_sums_counters_throughput_and_lag_over_workers() -> None:
    snapshots = [
        snap("a:1:0", counters=counters(eventsIn=100, eventsProcessed=90, errors=5, dlqEvents=5), throughput=10, lag=3),
        snap("b:2:1", counters=counters(eventsIn=300, eventsProcessed=280, eventsEmitted=7), throughput=30, lag=4),
    ]
    metrics = aggregate(snapshots, version=1, desired="running", now_ms=NOW)
    assert metrics.status == "running"
    assert metrics.counters.events_in == 400
    assert metrics.counters.events_processed == 370
    assert metrics.counters.events_emitted == 7
    assert metrics.counters.dlq_events == 5
    assert metrics.throughput == 40
    assert metrics.lag == 7
    assert metrics.error_rate == pytest.approx(5 / 400)


def test_latency_is_weighted_by_events_in_the_last_interval() -> None:
    snapshots = [
        snap("a:1:0", throughput=10, avgLatencyMs=100.0),  # 20 events in its 2 s interval
        snap("b:1:1", throughput=30, avgLatencyMs=20.0),  # 60 events
        snap("c:1:2", throughput=0, avgLatencyMs=999.0),  # idle: no weight
    ]
    metrics = aggregate(snapshots, version=1, desired="running", now_ms=NOW)
    assert metrics.avg_latency_ms == pytest.approx((20 * 100 + 60 * 20) / 80)
    idle = aggregate([snap(throughput=0, avgLatencyMs=5.0)], version=1, desired="running", now_ms=NOW)
    assert idle.avg_latency_ms == 0


def test_error_rate_is_zero_without_events() -> None:
    assert aggregate([snap()], version=1, desired="running", now_ms=NOW).error_rate == 0


def test_only_the_latest_snapshot_of_each_worker_counts() -> None:
    old = snap("a:1:0", at=NOW - 3000, counters=counters(eventsProcessed=10), throughput=5)
    new = snap("a:1:0", at=NOW - 1000, counters=counters(eventsProcessed=25), throughput=7)
    for order in ([old, new], [new, old]):
        metrics = aggregate(order, version=1, desired="running", now_ms=NOW)
        assert metrics.counters.events_processed == 25
        assert metrics.throughput == 7
    assert latest_per_worker([old, new], 1) == [new]


def test_other_versions_are_ignored() -> None:
    snapshots = [snap("a:1:0", version=1, counters=counters(eventsProcessed=50)), snap("b:1:0", version=2)]
    metrics = aggregate(snapshots, version=2, desired="running", now_ms=NOW)
    assert metrics.counters.events_processed == 0
    assert [w.worker for w in metrics.workers] == ["b:1:0"]
    assert aggregate(snapshots[:1], version=2, desired="running", now_ms=NOW).status == "pending"


def test_failed_worker_makes_the_processor_failed_with_its_reason() -> None:
    snapshots = [snap("a:1:0"), snap("b:1:1", status="failed", reason="boom at operations[1]")]
    metrics = aggregate(snapshots, version=1, desired="running", now_ms=NOW)
    assert (metrics.status, metrics.reason) == ("failed", "boom at operations[1]")
    assert aggregate(snapshots, version=1, desired="paused", now_ms=NOW).status == "paused"


def test_failed_worker_replaced_long_ago_no_longer_counts() -> None:
    dead = snap("a:1:0", at=NOW - 60_000, status="failed", reason="killed", counters=counters(eventsProcessed=4))
    replacement = snap("a:2:0", at=NOW - 500, counters=counters(eventsProcessed=6), lag=2)
    metrics = aggregate([dead, replacement], version=1, desired="running", now_ms=NOW)
    assert metrics.status == "running"
    assert metrics.counters.events_processed == 10, "counters of replaced workers still count"
    assert metrics.lag == 2, "gauges of replaced workers do not"


def test_workers_that_stopped_reporting_are_stale() -> None:
    quiet = snap(at=NOW - STALE_AFTER_MS - 1, throughput=4, lag=9)
    metrics = aggregate([quiet], version=1, desired="running", now_ms=NOW)
    assert metrics.status == "stale"
    assert (metrics.throughput, metrics.lag) == (4, 9), "the last values are kept; the status says how old"
    assert aggregate([snap(at=NOW - STALE_AFTER_MS)], version=1, desired="running", now_ms=NOW).status == "running"


def test_starting_workers_are_pending() -> None:
    metrics = aggregate([snap(status="starting")], version=1, desired="running", now_ms=NOW)
    assert metrics.status == "pending"


def test_windows_of_current_workers_are_merged() -> None:
    snapshots = [
        snap("a:1:0", windows=[{"windowStart": 0, "windowEnd": 300_000, "eventsCount": 3}]),
        snap(
            "b:1:1",
            windows=[
                {"windowStart": 300_000, "windowEnd": 600_000, "eventsCount": 1},
                {"windowStart": 0, "windowEnd": 300_000, "eventsCount": 2},
            ],
        ),
    ]
    metrics = aggregate(snapshots, version=1, desired="running", now_ms=NOW)
    assert [(w.start_ms, w.end_ms, w.events) for w in metrics.windows] == [(0, 300_000, 5), (300_000, 600_000, 1)]


def test_documents() -> None:
    snapshots = [
        snap(
            "a:1:0",
            counters=counters(eventsIn=10, eventsProcessed=10, errors=1, lateEvents=2, eventsFiltered=3),
            throughput=2.5,
            lastEventAt=1_736_937_000_123,
            windows=[{"windowStart": 1_736_937_000_000, "windowEnd": 1_736_937_300_000, "eventsCount": 4}],
        )
    ]
    metrics = aggregate(snapshots, version=3, desired="running", now_ms=NOW)
    assert metrics.status == "pending", "snapshots of version 1 do not describe version 3"
    metrics = aggregate(snapshots, version=1, desired="running", now_ms=NOW)
    document = metrics_document("proc_000000000001", 1, metrics)
    assert document["status"] == "running"
    assert "reason" not in document
    assert document["metrics"] == {
        "eventsIn": 10,
        "eventsProcessed": 10,
        "throughput": 2.5,
        "avgLatency": 0.0,
        "lag": 0,
        "errorRate": 0.1,
        "errors": 1,
        "eventsEmitted": 0,
        "eventsFiltered": 3,
        "lateEvents": 2,
        "dlqEvents": 0,
        "lastEventAt": "2025-01-15T10:30:00.123Z",
    }
    assert document["windows"] == [
        {"windowStart": "2025-01-15T10:30:00.000Z", "windowEnd": "2025-01-15T10:35:00.000Z", "eventsCount": 4}
    ]
    assert document["workers"] == [{"worker": "a:1:0", "status": "running", "at": "2023-11-14T22:13:19.000Z"}]
    assert summary_document(metrics) == {"eventsProcessed": 10, "throughput": 2.5, "lag": 0}

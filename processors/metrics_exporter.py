"""The processors' metrics in Prometheus form, served by `kafkagate worker` on `KAFKAGATE_WORKER_METRICS_PORT`.

The supervisor tails the metrics topic (the snapshots every worker publishes, which the processor API reads
too) and feeds each record to `ProcessorExporter`; a scrape reads the newest snapshot of each worker. So one
supervisor's `/metrics` shows every worker of every processor, wherever it runs, exactly as the API does.

Labels: `processor` (its id), `worker` (the worker index: a restarted worker has a new pid but the same index,
so restarts add no series) and, on the status gauge, `status`. Only the newest spec version of a processor is
shown; a worker's counters start over when its process does, which Prometheus's `rate()` takes as a reset.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from pydantic import ValidationError

from schemas.processor_api import Counters, MetricsSnapshot

LABELS = ("processor", "worker")
# Counter families: (metric name without `_total`, help, the `Counters` field).
COUNTERS: tuple[tuple[str, str, str], ...] = (
    ("kafkagate_processor_events_in", "Source events read", "events_in"),
    ("kafkagate_processor_events_processed", "Events processed", "events_processed"),
    ("kafkagate_processor_events_filtered", "Events dropped by a filter", "events_filtered"),
    ("kafkagate_processor_events_emitted", "Events written to the sink", "events_emitted"),
    ("kafkagate_processor_late_events", "Events that arrived after their window closed", "late_events"),
    ("kafkagate_processor_dlq_events", "Events sent to the dead-letter stream", "dlq_events"),
    ("kafkagate_processor_errors", "Events whose processing failed", "errors"),
)
GAUGES: tuple[tuple[str, str], ...] = (
    ("kafkagate_processor_throughput_events_per_second", "Events processed per second over the last interval"),
    ("kafkagate_processor_latency_avg_seconds", "Mean record-timestamp-to-processed time over the last interval"),
    ("kafkagate_processor_lag_records", "Source records not yet processed"),
    ("kafkagate_processor_snapshot_timestamp_seconds", "When the worker last reported (epoch seconds)"),
    ("kafkagate_processor_worker_status", "1 for the status the worker last reported"),
)


@dataclass(frozen=True, slots=True)
class _Latest:
    version: int
    snapshots: dict[str, MetricsSnapshot]  # by worker index


def worker_index(worker: str) -> str:
    """The index of a worker named `<host>:<pid>:<index>`."""
    return worker.rsplit(":", 1)[-1]


class ProcessorExporter:
    """A Prometheus collector over the newest snapshot of each worker (register it in a `CollectorRegistry`)."""

    def __init__(self) -> None:
        self._processors: dict[str, _Latest] = {}

    def feed(self, value: bytes | None) -> None:
        """One record of the metrics topic; records that are not snapshots are skipped."""
        if value is None:
            return
        try:
            snapshot = MetricsSnapshot.model_validate_json(value)
        except ValidationError:
            return
        latest = self._processors.get(snapshot.processor_id)
        if latest is None or snapshot.version > latest.version:
            latest = self._processors[snapshot.processor_id] = _Latest(snapshot.version, {})
        elif snapshot.version < latest.version:
            return
        index = worker_index(snapshot.worker)
        known = latest.snapshots.get(index)
        if known is None or snapshot.at >= known.at:
            latest.snapshots[index] = snapshot

    def forget(self, processor_id: str) -> None:
        """Stop exporting a deleted processor."""
        self._processors.pop(processor_id, None)

    def collect(self) -> Iterator[Metric]:
        counters = {name: CounterMetricFamily(name, text, labels=LABELS) for name, text, _ in COUNTERS}
        gauges = {name: GaugeMetricFamily(name, text, labels=LABELS) for name, text in GAUGES}
        status = GaugeMetricFamily(GAUGES[-1][0], GAUGES[-1][1], labels=(*LABELS, "status"))
        # A copy: the scrape runs on the HTTP server's thread while the supervisor's loop feeds new snapshots.
        for processor_id, latest in list(self._processors.items()):
            for index, snapshot in list(latest.snapshots.items()):
                labels = [processor_id, index]
                totals: Counters = snapshot.counters
                for name, _, attribute in COUNTERS:
                    counters[name].add_metric(labels, getattr(totals, attribute))
                gauges["kafkagate_processor_throughput_events_per_second"].add_metric(labels, snapshot.throughput)
                gauges["kafkagate_processor_latency_avg_seconds"].add_metric(labels, snapshot.avg_latency_ms / 1000)
                gauges["kafkagate_processor_lag_records"].add_metric(labels, snapshot.lag)
                gauges["kafkagate_processor_snapshot_timestamp_seconds"].add_metric(labels, snapshot.at / 1000)
                status.add_metric([*labels, snapshot.status], 1)
        yield from counters.values()
        yield from (family for name, family in gauges.items() if name != GAUGES[-1][0])
        yield status

"""The processors' Prometheus metrics: the newest snapshot of each worker of each processor's newest version."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from processors.metrics_exporter import COUNTERS, GAUGES, ProcessorExporter, worker_index
from schemas.processor_api import Counters, MetricsSnapshot


def snapshot(processor: str, version: int, worker: str, at: int, processed: int, **fields: object) -> bytes:
    return MetricsSnapshot(
        processor_id=processor,
        version=version,
        worker=worker,
        status=fields.pop("status", "running"),  # type: ignore[arg-type]
        at=at,
        counters=Counters(events_in=processed + 1, events_processed=processed),
        **fields,  # type: ignore[arg-type]
    ).to_json()


def scrape(exporter: ProcessorExporter) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    registry = CollectorRegistry()
    registry.register(exporter)
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def labels(processor: str, worker: str, **more: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"processor": processor, "worker": worker, **more}.items()))


def test_each_worker_shows_its_newest_snapshot() -> None:
    exporter = ProcessorExporter()
    exporter.feed(snapshot("p1", 1, "host:100:0", at=1_000, processed=5))
    exporter.feed(snapshot("p1", 1, "host:101:1", at=1_100, processed=7, lag=3, throughput=2.5, avg_latency_ms=40))
    exporter.feed(snapshot("p1", 1, "host:100:0", at=2_000, processed=9))
    exporter.feed(snapshot("p1", 1, "host:100:0", at=1_500, processed=6))  # arrived late: older than the newest
    metrics = scrape(exporter)
    assert metrics["kafkagate_processor_events_processed_total"] == {labels("p1", "0"): 9, labels("p1", "1"): 7}
    assert metrics["kafkagate_processor_events_in_total"][labels("p1", "1")] == 8
    assert metrics["kafkagate_processor_lag_records"][labels("p1", "1")] == 3
    assert metrics["kafkagate_processor_throughput_events_per_second"][labels("p1", "1")] == 2.5
    assert metrics["kafkagate_processor_latency_avg_seconds"][labels("p1", "1")] == 0.04
    assert metrics["kafkagate_processor_snapshot_timestamp_seconds"][labels("p1", "0")] == 2.0
    assert metrics["kafkagate_processor_worker_status"][labels("p1", "0", status="running")] == 1


def test_a_restarted_worker_keeps_its_series_and_a_new_version_replaces_the_old() -> None:
    exporter = ProcessorExporter()
    exporter.feed(snapshot("p1", 1, "host:100:0", at=1_000, processed=5))
    exporter.feed(snapshot("p1", 1, "host:200:0", at=2_000, processed=1, status="failed", reason="boom"))
    assert scrape(exporter)["kafkagate_processor_worker_status"] == {labels("p1", "0", status="failed"): 1}
    exporter.feed(snapshot("p1", 2, "host:300:0", at=3_000, processed=2))
    exporter.feed(snapshot("p1", 1, "host:200:0", at=4_000, processed=3))  # a straggler of the old version
    assert scrape(exporter)["kafkagate_processor_events_processed_total"] == {labels("p1", "0"): 2}


def test_a_deleted_processor_and_records_that_are_not_snapshots_are_dropped() -> None:
    exporter = ProcessorExporter()
    exporter.feed(b"not json")
    exporter.feed(None)
    exporter.feed(snapshot("p1", 1, "host:100:0", at=1_000, processed=5))
    exporter.forget("p1")
    assert "kafkagate_processor_events_processed_total" not in scrape(exporter)


def test_every_family_is_described_even_with_no_worker() -> None:
    names = {family.name for family in ProcessorExporter().collect()}
    assert names == {name for name, _, _ in COUNTERS} | {name for name, _ in GAUGES}
    assert worker_index("host.example:4242:3") == "3"

"""The gateway's metrics: bounded labels, whatever clients send."""

from __future__ import annotations

from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gateway.metrics import OTHER, GatewayMetrics, StreamLabels


def samples(metrics: GatewayMetrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def test_the_first_streams_keep_their_names_and_the_rest_fold_into_other() -> None:
    labels = StreamLabels(2)
    assert [labels(t) for t in ("a", "b", "c", "a", "d", "b")] == ["a", "b", OTHER, "a", OTHER, "b"]


def test_events_of_streams_past_the_cap_are_counted_under_other() -> None:
    metrics = GatewayMetrics(max_streams=2)
    for topic in ("orders", "payments", "clicks", "views", "orders"):
        metrics.produced(topic, 2, 100)
    events = samples(metrics, "kafkagate_produced_events_total")
    assert events == {
        (("stream", "orders"),): 4,
        (("stream", "payments"),): 2,
        (("stream", OTHER),): 4,
    }
    assert samples(metrics, "kafkagate_produced_bytes_total")[(("stream", OTHER),)] == 200


def test_produced_and_consumed_share_the_cap() -> None:
    metrics = GatewayMetrics(max_streams=1)
    metrics.produced("orders", 1, 10)
    metrics.consumed("payments", 3, 30)
    assert samples(metrics, "kafkagate_consumed_events_total") == {(("stream", OTHER),): 3}


def test_unknown_methods_fold_into_other() -> None:
    metrics = GatewayMetrics()
    metrics.request("/healthz", "GET", 200, 0.001)
    metrics.request("/healthz", "BREW", 405, 0.001)
    assert samples(metrics, "kafkagate_http_requests_total") == {
        (("method", "GET"), ("route", "/healthz"), ("status", "200")): 1,
        (("method", OTHER), ("route", "/healthz"), ("status", "405")): 1,
    }


def test_state_gauges_are_read_at_scrape_time() -> None:
    metrics = GatewayMetrics()
    held = [3]
    metrics.watch([("kafkagate_consumer_members", "members", lambda: held[0])])
    assert samples(metrics, "kafkagate_consumer_members") == {(): 3}
    held[0] = 5
    assert samples(metrics, "kafkagate_consumer_members") == {(): 5}

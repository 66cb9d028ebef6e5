"""The gateway's Prometheus metrics: one `GatewayMetrics` per app, with its own `CollectorRegistry`.

Every metric name starts with `kafkagate_`. Labels are bounded so a scrape stays small whatever clients send:

- `route` is the route *template* (`/api/v1/streams/{stream}/events`), `_unmatched` for paths no route serves;
- `method` is one of the HTTP methods the gateway serves, anything else `_other`;
- `stream` is the Kafka topic, for at most `metrics_max_streams` distinct topics per process; events of any
  further topic are counted under `stream="_other"` (the first topics seen keep their own labels until restart).

Gauges that mirror state held elsewhere (consumer members, produce bytes in flight) are read at scrape time by a
collector, so the request path never updates them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

OTHER = "_other"
UNMATCHED = "_unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds; produce waits for acks=all and long polls wait up to `consume_max_timeout_ms`, hence the long tail.
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class StreamLabels:
    """The `stream` label of a topic: its own name for the first `limit` topics, `_other` after that."""

    def __init__(self, limit: int):
        self.limit = limit
        self._known: set[str] = set()

    def __call__(self, topic: str) -> str:
        if topic in self._known:
            return topic
        if len(self._known) < self.limit:
            self._known.add(topic)
            return topic
        return OTHER


class StateGauges:
    """Gauges read from live objects at scrape time: each entry is (name, help text, a function returning it)."""

    def __init__(self, gauges: Iterable[tuple[str, str, Callable[[], float]]]):
        self._gauges = tuple(gauges)

    def collect(self) -> Iterator[Metric]:
        for name, documentation, read in self._gauges:
            yield GaugeMetricFamily(name, documentation, value=read())

    def describe(self) -> Iterator[Metric]:
        for name, documentation, _ in self._gauges:
            yield GaugeMetricFamily(name, documentation)


class GatewayMetrics:
    """The metrics of one gateway app. `max_streams` caps the distinct `stream` label values (see module doc)."""

    def __init__(self, max_streams: int = 1000):
        self.registry = CollectorRegistry(auto_describe=True)
        self.streams = StreamLabels(max_streams)
        r = self.registry
        self.http_requests = Counter(
            "kafkagate_http_requests", "HTTP requests answered", ["route", "method", "status"], registry=r
        )
        self.http_duration = Histogram(
            "kafkagate_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response",
            ["route", "method"],
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        self.produced_events = Counter(
            "kafkagate_produced_events", "Events Kafka acknowledged, by stream", ["stream"], registry=r
        )
        self.produced_bytes = Counter(
            "kafkagate_produced_bytes", "Key, value and header bytes of acknowledged events", ["stream"], registry=r
        )
        self.consumed_events = Counter(
            "kafkagate_consumed_events", "Events returned to consumers, by stream", ["stream"], registry=r
        )
        self.consumed_bytes = Counter(
            "kafkagate_consumed_bytes", "Rendered JSON bytes of events returned to consumers", ["stream"], registry=r
        )
        self.kafka_errors = Counter(
            "kafkagate_kafka_errors",
            "Kafka client errors answered to a client, by gateway error and Kafka exception",
            ["error", "exception"],
            registry=r,
        )
        self.rate_limited = Counter(
            "kafkagate_rate_limited_requests", "Requests refused with 429 by the per-key quotas", registry=r
        )
        self.idempotent_replays = Counter(
            "kafkagate_idempotent_replays", "Responses replayed for a repeated Idempotency-Key", registry=r
        )
        self.idempotency_takeovers = Counter(
            "kafkagate_idempotency_takeovers",
            "Requests that took over the Idempotency-Key of an owner that stopped, by whether that owner's records "
            "were found (and answered with) or none were (and the request ran)",
            ["records"],
            registry=r,
        )
        # Children by label values: `labels()` validates its arguments and takes a lock on every call, a dict lookup
        # does not. Every key is a bounded label value (never a raw topic beyond the cap), so these stay small.
        self._requests: dict[tuple[str, str, int], Counter] = {}
        self._durations: dict[tuple[str, str], Histogram] = {}
        self._produced: dict[str, tuple[Counter, Counter]] = {}
        self._consumed: dict[str, tuple[Counter, Counter]] = {}

    def watch(self, gauges: Iterable[tuple[str, str, Callable[[], float]]]) -> None:
        """Export gauges read from live state at scrape time (see `StateGauges`)."""
        self.registry.register(StateGauges(gauges))

    def request(self, route: str, method: str, status: int, duration_s: float) -> None:
        if method not in METHODS:
            method = OTHER
        counter = self._requests.get((route, method, status))
        if counter is None:
            counter = self._requests[(route, method, status)] = self.http_requests.labels(route, method, str(status))
        counter.inc()
        histogram = self._durations.get((route, method))
        if histogram is None:
            histogram = self._durations[(route, method)] = self.http_duration.labels(route, method)
        histogram.observe(duration_s)

    def produced(self, topic: str, events: int, size_bytes: int) -> None:
        label = self.streams(topic)
        pair = self._produced.get(label)
        if pair is None:
            pair = self._produced[label] = (self.produced_events.labels(label), self.produced_bytes.labels(label))
        pair[0].inc(events)
        pair[1].inc(size_bytes)

    def consumed(self, topic: str, events: int, size_bytes: int) -> None:
        label = self.streams(topic)
        pair = self._consumed.get(label)
        if pair is None:
            pair = self._consumed[label] = (self.consumed_events.labels(label), self.consumed_bytes.labels(label))
        pair[0].inc(events)
        pair[1].inc(size_bytes)

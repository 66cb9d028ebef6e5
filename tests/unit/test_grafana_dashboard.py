"""docs/grafana-dashboard.json shows only metrics kafkagate exports (the gateway's /metrics and the worker's), and
every metric they export."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from gateway.kafka.clients import KafkaClients
from gateway.settings import Settings
from processors.metrics_exporter import ProcessorExporter

DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana-dashboard.json"
# Label matchers, range selectors, grouping clauses and strings name no metric; what is left of the expression
# is metric names, function names (always followed by "("), keywords and numbers.
_NOT_NAMES = re.compile(r'\{[^}]*\}|\[[^\]]*\]|\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)|"[^"]*"')
_IDENTIFIER = re.compile(r"\b[A-Za-z_:][A-Za-z0-9_:]*\b(?!\s*\()")
_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "offset", "bool", "and", "or", "unless"})
# The series a metric family exposes, by its type (prometheus_client names counters without `_total`).
_SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}


def metric_names(expression: str) -> set[str]:
    """The metric names a PromQL expression (or a Grafana `label_values(...)` query) selects."""
    stripped = _NOT_NAMES.sub(" ", expression.replace("label_values(", "label_values_of ("))
    if "label_values_of" in stripped:
        # label_values(metric, label): the first argument is a series selector, the second a label name.
        stripped = stripped.split(",")[0]
    return {name for name in _IDENTIFIER.findall(stripped) if name not in _KEYWORDS and name != "label_values_of"}


def expressions(dashboard: dict[str, Any]) -> list[str]:
    found = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    found += [v["definition"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return found


def exported() -> dict[str, str]:
    """Every series name the app's registry and the worker's exporter expose, to its family name."""
    settings = Settings(bootstrap_servers="127.0.0.1:9", auth="off")
    registry = create_app(settings, kafka=KafkaClients(settings)).state.gateway.metrics.registry
    families = [*registry.collect(), *ProcessorExporter().collect()]
    return {
        family.name + suffix: family.name
        for family in families
        for suffix in _SUFFIXES[family.type]
        if family.name.startswith("kafkagate_")
    }


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ('sum by (route) (rate(a_total{status=~"5..", route="x"}[$__rate_interval]))', {"a_total"}),
        ("histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))", {"h_bucket"}),
        ("sum(rate(a_sum[1m])) / sum(rate(a_count[1m]))", {"a_sum", "a_count"}),
        ("label_values(a_total, instance)", {"a_total"}),
    ],
)
def test_metric_names_are_read_from_expressions(expression: str, names: set[str]) -> None:
    assert metric_names(expression) == names


def test_the_dashboard_names_only_exported_metrics_and_shows_them_all() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    series = exported()
    named = set().union(*(metric_names(e) for e in expressions(dashboard)))
    assert named, "the dashboard names no metric"
    assert named <= set(series), f"not exported by the gateway: {sorted(named - set(series))}"
    assert {series[name] for name in named} == set(series.values()), "exported but not on the dashboard"

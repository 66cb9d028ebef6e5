"""The bench's pure parts: repeated runs folded into medians, the table's ratios, the targets, the plan."""

from __future__ import annotations

import math

import orjson
import pytest

from bench import java, raw
from bench.measurement import Measurement
from bench.memory import Reading
from bench.plan import QUICK, Plan, parse_plan
from bench.report import markdown, rows, targets
from bench.stats import Spread, summarize


def _m(scenario: str, side: str, events: int, seconds: float, latencies_ms: list[float] | None = None) -> Measurement:
    return Measurement(scenario, side, events, seconds, [v / 1000 for v in (latencies_ms or [1.0])])


def test_a_spread_is_the_median_with_the_extremes_and_ignores_missing_values() -> None:
    assert Spread.of([3.0, 1.0, 2.0]) == Spread(2.0, 1.0, 3.0)
    assert Spread.of([4.0, 1.0, 2.0, math.nan, 3.0]) == Spread(2.5, 1.0, 4.0)
    empty = Spread.of([])
    assert math.isnan(empty.median)
    assert math.isnan(empty.low)


def test_runs_are_grouped_per_scenario_and_side_in_first_seen_order() -> None:
    runs = [_m("a", "x", 100, 1.0), _m("a", "y", 100, 2.0), _m("a", "x", 100, 0.5), _m("a", "x", 100, 0.25)]
    summaries = summarize(runs)
    assert [(s.scenario, s.side, len(s.runs)) for s in summaries] == [("a", "x", 3), ("a", "y", 1)]
    assert summaries[0].events_per_s == Spread(200.0, 100.0, 400.0)


def test_latency_percentiles_are_medians_of_each_runs_nearest_rank_percentile() -> None:
    first = _m("s", "x", 4, 1.0, [1, 2, 3, 10])
    second = _m("s", "x", 4, 1.0, [2, 2, 4, 20])
    third = _m("s", "x", 4, 1.0, [5, 5, 5, 5])
    (summary,) = summarize([first, second, third])
    assert summary.p50_ms == Spread(pytest.approx(2.0), pytest.approx(2.0), pytest.approx(5.0))
    assert summary.p99_ms.median == pytest.approx(10.0)


def test_rows_compare_with_the_naive_client_of_the_same_scenario() -> None:
    summaries = summarize(
        [
            _m("batch", raw.NAIVE, 1000, 1.0),
            _m("batch", "gateway", 1000, 0.5),
            _m("consume", raw.CONSUMER, 1000, 1.0),
            _m("consume", "gateway", 1000, 4.0),
        ]
    )
    table = rows(summaries)
    assert [r[0] for r in table] == ["batch", "", "consume", ""]
    assert [r[3] for r in table] == ["", "2.00x", "", "0.25x"]
    assert "|  | gateway | 2,000 | 2.00x |" in markdown(summaries, [])


def test_targets_are_ratios_of_medians_and_say_which_were_met() -> None:
    plan = Plan(concurrency=(1, 64), batch_in_flight=(1, 4), idle_members=10)
    batch, single, one = "batch of 1,000 x4", "single event C=64", "single event C=1"
    summaries = summarize(
        [
            _m(batch, raw.NAIVE, 1000, 1.0),
            _m(batch, "gateway", 1000, 0.4),  # 2,500/s: 2.5x
            _m(batch, "gateway+bearer", 1000, 0.5),  # 2,000/s: 25% slower
            _m(batch, java.SIDE, 1000, 0.25),  # 4,000/s
            _m(single, raw.NAIVE, 100, 1.0),
            _m(single, "gateway", 100, 1.0, [5.0] * 100),
            _m(single, "starlette echo", 100, 0.1, [1.0] * 100),
            _m(one, raw.NAIVE, 10, 1.0, [4.0]),
            _m(one, "gateway", 10, 1.0, [6.0]),
            _m(one, "gateway+idempotency", 10, 1.0, [12.0]),
        ]
    )
    memory = [
        Reading("under the batch workload", [100.0, 120.0, 110.0]),
        Reading("with 10 idle consumer members", [400.0]),
    ]
    found = {t.name.split(": ", 1)[-1]: t for t in targets(plan, summaries, memory)}
    assert found["gateway / aiokafka send"].value == pytest.approx(2.5)
    assert found["gateway / aiokafka send"].met
    assert found[f"gateway / {java.SIDE}"].value == pytest.approx(0.625)
    assert not found[f"gateway / {java.SIDE}"].met
    assert found["gateway / aiokafka send_and_wait"].met
    assert found["gateway p99"].met
    assert found["gateway / starlette echo requests/s"].value == pytest.approx(0.1)
    assert not found["gateway / starlette echo requests/s"].met
    assert found["bearer token cost"].value == pytest.approx(25.0)
    assert not found["bearer token cost"].met
    assert found["idempotency key adds (broker round trips)"].value == pytest.approx(1.5)
    assert math.isnan(found["gateway / aiokafka getmany"].value)  # not measured: shown as n/a, never met
    assert not found["gateway / aiokafka getmany"].met
    assert found["gateway RSS under the batch workload"].value == pytest.approx(110.0)
    assert not found["gateway RSS with 10 idle consumer members"].met


def test_the_java_producers_final_summary_is_read() -> None:
    output = (
        "67561 records sent, 13485.2 records/sec (2.57 MB/sec), 84.3 ms avg latency, 2211.0 ms max latency.\n"
        "100000 records sent, 16012.8 records/sec (3.05 MB/sec), 81.92 ms avg latency, 2211.00 ms max latency, "
        "78 ms 50th, 136 ms 95th, 268 ms 99th, 367 ms 99.9th.\n"
    )
    assert java.parse_report(output) == java.Report(100000, 16012.8, 78.0, 268.0)


def test_a_run_of_the_java_producer_without_a_summary_is_an_error() -> None:
    from bench.errors import BenchError

    with pytest.raises(BenchError, match="no summary"):
        java.parse_report("Exception in thread main\n")


def test_quick_is_a_smaller_plan_and_options_override_it() -> None:
    assert parse_plan([]) == Plan()
    quick = parse_plan(["--quick", "--repeats", "2", "--concurrency", "8,16"])
    assert quick.repeats == 2
    assert quick.concurrency == (8, 16)
    assert quick.single_events == QUICK.single_events < Plan().single_events


def test_a_results_document_renders_as_the_same_markdown_table() -> None:
    from bench.report import document, document_markdown
    from gateway.settings import Settings

    plan = Plan(concurrency=(1,), batch_in_flight=(4,), idle_members=10)
    summaries = summarize(
        [_m("batch of 1,000 x4", raw.NAIVE, 1000, 1.0), _m("batch of 1,000 x4", "gateway", 1000, 0.5)]
    )
    memory = [Reading("idle", [70.0, 72.0, 71.0])]
    doc = orjson.loads(orjson.dumps(document(plan, Settings(auth="off"), "test", summaries, memory)))
    rendered = document_markdown(doc)
    assert "|  | gateway | 2,000 | 2.00x | 1.0 | 1.0 | -/-/- |" in rendered
    assert "| idle | 71 (70-72) |" in rendered
    assert "| batch of 1,000 x4: gateway / aiokafka send | 2.00x | >= 2x | met |" in rendered

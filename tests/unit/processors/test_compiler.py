from __future__ import annotations

from typing import Any

import orjson
import pytest

from processors.aggregations import Count, Sum
from processors.compiler import PlanError, check_processor, compile_processor, fingerprint
from processors.functions import FunctionRegistry
from processors.plan import FilterStep, MapStep, Plan, RouteStep, SampleStep
from processors.windows import WindowPolicy
from schemas.processors import ProcessorSpec
from tests.unit.processors.specs import SEED_EXAMPLE, seed_document, spec_document

REGISTRY = FunctionRegistry.load(installed=[])
COUNT = {"type": "aggregate", "aggregation": "count", "groupBy": "userId"}


def compile_document(document: dict[str, Any], **options: Any) -> Plan:
    return compile_processor(ProcessorSpec.model_validate(document), REGISTRY, **options)


def issues_of(document: dict[str, Any], **options: Any) -> list[str]:
    return [str(issue) for issue in check_processor(ProcessorSpec.model_validate(document), REGISTRY, **options)]


def test_seed_example_compiles() -> None:
    plan = compile_processor(ProcessorSpec.model_validate_json(SEED_EXAMPLE), REGISTRY, source_partitions=4)

    filter_step, map_step = plan.before
    assert isinstance(filter_step, FilterStep)
    assert filter_step.predicate.source == "value.amount > 1000"
    assert isinstance(map_step, MapStep)
    assert map_step.function is not None
    assert map_step.function.name == "enrichWithUserData"
    stage = plan.aggregate
    assert stage is not None
    assert (stage.index, stage.window_index) == (3, 2)
    assert stage.window == WindowPolicy.tumbling(300_000)
    assert stage.aggregator == Count()
    assert stage.group_by.path == ("userId",)
    assert stage.group_field == "userId"
    assert plan.after == ()
    assert plan.lookups == ("users",)
    assert (plan.config.parallelism, plan.config.commit_interval_ms) == (4, 60_000)


def test_internal_topics_derive_from_the_processor() -> None:
    plan = compile_document(seed_document())

    assert plan.topics.source == "transactions"
    assert plan.topics.sink == "fraud-alerts"
    assert plan.topics.dlq == "fraud-detection.dlq"
    assert plan.topics.repartition == "fraud-detection.repartition"
    assert plan.topics.internal == ("fraud-detection.dlq", "fraud-detection.repartition")
    assert compile_document(seed_document(), processor="proc_abc123").topics.dlq == "proc_abc123.dlq"


def test_topics_the_gateway_creates_get_the_configs_their_timestamps_need() -> None:
    topics = compile_document(seed_document()).topics

    # Event-time stamped records must outlive time-based retention until the runtime purges them.
    unbounded = {"message.timestamp.after.max.ms": "9223372036854775807"}
    assert topics.configs_for("fraud-detection.repartition") == {
        "retention.ms": "-1",
        "cleanup.policy": "delete",
        **unbounded,
    }
    assert topics.configs_for("fraud-detection.dlq") == {}  # stamped when written
    # Results of windows longer than Kafka's default hour are stamped ahead of the clock while windows are open.
    assert topics.configs_for("fraud-alerts") == unbounded


def test_no_repartition_without_an_aggregate() -> None:
    plan = compile_document(spec_document({"type": "filter", "predicate": "true"}))

    assert plan.topics.repartition is None
    assert plan.aggregate is None
    assert len(plan.before) == 1


def test_grouping_by_the_untouched_record_key_needs_no_repartition() -> None:
    by_key = {**COUNT, "groupBy": "key"}

    assert compile_document(spec_document({"type": "filter", "predicate": "true"}, by_key)).topics.repartition is None
    enrich = {"type": "map", "function": "enrichWithUserData"}
    assert compile_document(spec_document(enrich, by_key)).topics.repartition == "p.repartition"
    assert compile_document(spec_document(COUNT)).topics.repartition == "p.repartition"


def test_steps_after_the_aggregate_apply_to_results() -> None:
    plan = compile_document(
        spec_document(
            {"type": "window", "windowType": "tumbling", "duration": 1000},
            {"type": "aggregate", "aggregation": "sum", "field": "amount", "groupBy": "userId"},
            {"type": "filter", "predicate": "value.sum > 10"},
            {"type": "sample", "rate": 0.5},
        )
    )

    assert plan.before == ()
    assert plan.aggregate is not None
    assert plan.aggregate.aggregator == Sum()
    assert [type(step) for step in plan.after] == [FilterStep, SampleStep]


def test_route_sinks() -> None:
    route = {
        "type": "route",
        "cases": [{"predicate": "value.vip", "sink": "vip"}, {"predicate": "value.amount > 5", "sink": "big"}],
    }
    document = spec_document(route)
    plan = compile_document(document)
    (step,) = plan.before

    assert isinstance(step, RouteStep)
    assert step.default == "out"  # the top-level sink stands in for the route default
    assert plan.topics.sink is None
    assert plan.topics.routes == ("vip", "big", "out")
    assert plan.topics.outputs == ("big", "out", "vip")


def test_syntax_error_names_the_operation_and_position() -> None:
    document = seed_document()
    document["operations"][0]["predicate"] = "value.amount >"

    (issue,) = issues_of(document)
    assert issue.startswith("operations[0].predicate: syntax error at column 15: mismatched input '<EOF>'")


def test_every_problem_is_reported() -> None:
    document = spec_document(
        {"type": "filter", "predicate": "valeu.amount > 1"},
        {"type": "map", "function": "nope"},
        {"type": "map", "function": "dropFields", "args": {}},
        {"type": "map", "expression": "{"},
        {"type": "route", "cases": [{"predicate": "true", "sink": "a"}, {"predicate": "(", "sink": "b"}]},
    )

    assert [issue.split(":")[0] for issue in issues_of(document)] == [
        "operations[0].predicate",
        "operations[1].function",
        "operations[2].args",
        "operations[3].expression",
        "operations[4].cases[1].predicate",
    ]
    assert "unknown variable 'valeu'" in issues_of(document)[0]
    assert "available: dropFields, enrichWithUserData" in issues_of(document)[1]


def test_aggregate_and_window_problems_are_located() -> None:
    document = spec_document(
        {
            "type": "window",
            "windowType": "tumbling",
            "duration": 10,
            "timestamp": {"field": "event time", "format": "epoch_ms"},
        },
        {"type": "aggregate", "aggregation": "sum", "field": "value.a +", "groupBy": "value.b +"},
    )

    assert [issue.split(":")[0] for issue in issues_of(document)] == [
        "operations[1].groupBy",
        "operations[1].field",
        "operations[0].timestamp.field",
    ]


def test_parallelism_beyond_source_partitions_is_rejected_with_the_reason() -> None:
    with pytest.raises(PlanError) as caught:
        compile_document(seed_document(), source_partitions=3)

    (issue,) = caught.value.issues
    assert issue.location == "config.parallelism"
    assert "4 workers exceed the 3 partitions of source 'transactions'" in issue.message
    assert compile_document(seed_document(), source_partitions=4).config.parallelism == 4


def test_equal_specs_give_equal_plans() -> None:
    reordered = orjson.loads(orjson.dumps(seed_document(), option=orjson.OPT_SORT_KEYS))
    explicit_defaults = seed_document()
    explicit_defaults["operations"][0]["onError"] = "dlq"
    explicit_defaults["operations"][2]["grace"] = 0
    explicit_defaults["config"]["guarantee"] = "at_least_once"
    first = compile_document(seed_document())

    for document in (seed_document(), reordered, explicit_defaults):
        again = compile_document(document)
        assert again == first
        assert again.fingerprint == first.fingerprint


def test_size_alias_gives_the_same_plan_as_duration() -> None:
    with_size = seed_document()
    with_size["operations"][2] = {"type": "window", "windowType": "tumbling", "size": 300000}

    assert compile_document(with_size) == compile_document(seed_document())


def test_different_specs_give_different_fingerprints() -> None:
    changed = seed_document()
    changed["operations"][0]["predicate"] = "value.amount > 2000"
    base = compile_document(seed_document())

    assert compile_document(changed) != base
    assert compile_document(changed).fingerprint != base.fingerprint
    assert compile_document(seed_document(), processor="other").fingerprint != base.fingerprint


def test_fingerprint_is_stable_across_processes() -> None:
    # A literal (no hash randomisation, no dict order), so a change to what the fingerprint covers shows up here.
    spec = ProcessorSpec.model_validate(seed_document())

    assert fingerprint(spec, "fraud-detection") == "ddd7d8ceaf355419d532ecc8ffe9ebd6d1851d12d4e33bebb27a242059323643"
    assert compile_document(seed_document()).fingerprint == fingerprint(spec, "fraud-detection")
    # Where a new processor starts reading is not state: it leaves the fingerprint (and table names) alone.
    latest = seed_document()
    latest["config"]["startFrom"] = "latest"
    assert compile_document(latest).fingerprint == fingerprint(spec, "fraud-detection")


def test_session_and_hopping_policies() -> None:
    hopping = {"type": "window", "windowType": "hopping", "duration": 10, "advance": 5, "grace": 3, "emit": "final"}
    session = {"type": "window", "windowType": "session", "gap": 7, "idleCloseAfter": 1000}

    hop_stage = compile_document(spec_document(hopping, COUNT)).aggregate
    session_stage = compile_document(spec_document(session, COUNT)).aggregate
    assert hop_stage is not None
    assert session_stage is not None
    assert hop_stage.window == WindowPolicy.hopping(10, 5, grace_ms=3, emit="final")
    assert session_stage.window == WindowPolicy("session", gap_ms=7, idle_close_after_ms=1000)


def test_cel_group_by_names_the_key_group_key() -> None:
    stage = compile_document(spec_document({**COUNT, "groupBy": "value.country + '/' + value.city"})).aggregate

    assert stage is not None
    assert stage.group_by.expression is not None
    assert stage.group_field == "groupKey"

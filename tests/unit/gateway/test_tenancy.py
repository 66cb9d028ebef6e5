"""The tenant-to-Kafka name mapping: distinct per tenant, never colliding with untenanted or internal names."""

from __future__ import annotations

import pytest

from gateway import errors as ge
from gateway.principal import ALL_SCOPES, OPEN, Principal
from gateway.tenancy import Namespace, namespace_of
from schemas.processors import ProcessorSpec

ACME = Namespace("_t.acme.")
PLAIN = Namespace()
ROOT = Namespace(root=True)


def test_a_tenant_stream_is_prefixed_with_its_slug() -> None:
    assert ACME.topic("orders") == "_t.acme.orders"
    assert ACME.stream("_t.acme.orders") == "orders"
    assert ACME.stream("_t.acme-b.orders") is None
    assert ACME.stream("orders") is None
    assert ACME.visible(["orders", "_t.acme.a", "_t.other.a", "__consumer_offsets"]) == ["a"]


def test_untenanted_names_never_reach_tenant_or_internal_topics() -> None:
    assert PLAIN.topic("orders") == "orders"
    for name in ("_t.acme.orders", "__consumer_offsets", "_kafkagate_keys"):
        with pytest.raises(ge.StreamNotFound):
            PLAIN.topic(name)
        with pytest.raises(ge.InvalidStreamName):
            PLAIN.topic(name, write=True)
        with pytest.raises(ge.StreamNotFound):
            ACME.topic(name)
    assert PLAIN.visible(["orders", "_t.acme.orders", "__consumer_offsets"]) == ["orders"]


def test_root_reads_every_topic_by_its_kafka_name_but_writes_no_internal_one() -> None:
    assert ROOT.topic("__consumer_offsets") == "__consumer_offsets"
    assert ROOT.visible(["b", "_t.acme.a", "__consumer_offsets"]) == ["b", "_t.acme.a", "__consumer_offsets"]
    with pytest.raises(ge.InvalidStreamName):
        ROOT.topic("__consumer_offsets", write=True)


def test_names_too_long_for_the_prefix_are_refused() -> None:
    assert len(ACME.topic("x" * (249 - len("_t.acme.")))) == 249
    with pytest.raises(ge.InvalidStreamName, match="limit is 241"):
        ACME.topic("x" * 242)


def test_groups_are_prefixed_and_the_prefix_is_reserved_outside_tenants() -> None:
    assert ACME.group("billing") == "_t.acme.billing"
    assert ACME.group_name("_t.acme.billing") == "billing"
    assert ACME.group_name("billing") is None
    assert PLAIN.group_name("_t.acme.billing") is None
    assert ROOT.group_name("_t.acme.billing") == "_t.acme.billing"
    with pytest.raises(ge.InvalidGroupName):
        PLAIN.group("_t.acme.billing", create=True)
    with pytest.raises(ge.ConsumerGroupNotFound):
        PLAIN.group("_t.acme.billing")


def test_a_processor_spec_is_mapped_in_and_shown_back_out() -> None:
    spec = ProcessorSpec.model_validate(
        {
            "name": "alerts",
            "source": "orders",
            "operations": [
                {"type": "map", "function": "enrichWithUserData", "args": {"table": "users", "field": "uid"}},
                {
                    "type": "route",
                    "cases": [{"predicate": "true", "sink": "big"}],
                    "default": "small",
                },
            ],
        }
    )
    mapped = ACME.processor_spec(spec)
    assert mapped.name == "_t.acme.alerts"
    assert mapped.source == "_t.acme.orders"
    route = mapped.operations[1]
    assert route.type == "route"
    assert [c.sink for c in route.cases] == ["_t.acme.big"]
    assert route.default == "_t.acme.small"
    enrich = mapped.operations[0]
    assert enrich.type == "map"
    assert enrich.args == {"table": "users", "field": "uid"}, "lookup tables are read under the record's namespace"
    original = spec.model_dump(mode="json", by_alias=True)
    assert ACME.spec_document(mapped.model_dump(mode="json", by_alias=True)) == original
    assert PLAIN.processor_spec(spec) is spec


def test_the_namespace_follows_the_principal() -> None:
    tenant = Principal(key_id="k", scopes=ALL_SCOPES, tenant_id="id", tenant_slug="acme")
    assert namespace_of(tenant) == ACME
    assert namespace_of(OPEN) == ROOT
    assert namespace_of(Principal(key_id="k", scopes=ALL_SCOPES)) == PLAIN

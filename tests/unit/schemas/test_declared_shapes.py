"""The JSON Schemas the OpenAPI document declares say what the pydantic shapes enforce: for each rule, a body
that breaks it is refused by both, and one that keeps it is accepted by both."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from schemas.consumers import ResetRequest
from schemas.events import TIMESTAMP, timestamp_ms
from schemas.ingest import ISO_8601_PATTERN, is_iso_8601
from schemas.lake import SYSTEM_CLASSES, DatasetCreate, SchemaCreate
from schemas.processors import ProcessorSpec
from schemas.streams import StreamCreate


def declared(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True)
    return {**schema, "$defs": schema.get("$defs", {})}


def accepted_by_model(model: type[BaseModel], body: dict[str, Any]) -> bool:
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


def accepted_by_schema(model: type[BaseModel], body: dict[str, Any]) -> bool:
    return jsonschema.Draft202012Validator(declared(model)).is_valid(body)


def processor(*operations: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "p", "source": "in", "operations": list(operations), **({"sink": "out"} | fields)}


FILTER = {"type": "filter", "predicate": "true"}
WINDOW = {"type": "window", "windowType": "tumbling", "duration": 1000}
COUNT = {"type": "aggregate", "aggregation": "count", "groupBy": "key"}
ROUTE = {"type": "route", "cases": [{"predicate": "true", "sink": "a"}]}

PROCESSORS = {
    "plain": (processor(FILTER), True),
    "no-operations": (processor(), True),
    "no-sink": (processor(FILTER, sink=None), False),
    "route-last-no-sink": (processor(FILTER, ROUTE, sink=None), True),
    "route-not-last": (processor(ROUTE, FILTER, sink=None), False),
    "route-default-and-sink": (processor({**ROUTE, "default": "d"}), False),
    "window-then-aggregate": (processor(FILTER, WINDOW, COUNT), True),
    "window-alone": (processor(WINDOW), False),
    "window-then-filter": (processor(WINDOW, FILTER, COUNT), False),
    "two-aggregates": (processor(COUNT, COUNT), False),
    "map-both": (processor({"type": "map", "function": "f", "expression": "e"}), False),
    "map-neither": (processor({"type": "map"}), False),
    "map-expression-with-args": (processor({"type": "map", "expression": "e", "args": {"a": 1}}), False),
    "sum-without-field": (processor({**COUNT, "aggregation": "sum"}), False),
    "session-with-duration": (processor({**WINDOW, "windowType": "session", "gap": 5}, COUNT), False),
    "session": (processor({"type": "window", "windowType": "session", "gap": 5}, COUNT), True),
    "hopping-without-advance": (processor({**WINDOW, "windowType": "hopping"}, COUNT), False),
    "dots": (processor(FILTER, sink=".."), False),
    "integral-float": (processor({**WINDOW, "duration": 1000.0}, COUNT), True),
    # Found by schemathesis: durations had no upper bound in the document; past int64 the body's integer check
    # refused them (422) as well.
    "longest-window": (processor({**WINDOW, "duration": 2**63 - 1, "grace": 2**63 - 1}, COUNT), True),
    "window-past-int64": (processor({**WINDOW, "duration": 2**63}, COUNT), False),
    "grace-past-int64": (processor({**WINDOW, "grace": 2**63}, COUNT), False),
    "checkpoint-past-int64": (processor(FILTER, config={"checkpointInterval": 2**63}), False),
}


@pytest.mark.parametrize(("body", "valid"), PROCESSORS.values(), ids=PROCESSORS.keys())
def test_the_declared_processor_shape_agrees_with_the_spec(body: dict[str, Any], valid: bool) -> None:
    assert accepted_by_model(ProcessorSpec, body) is valid
    assert accepted_by_schema(ProcessorSpec, body) is valid


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"stream": "s", "to": "offset"}, False),
        ({"stream": "s", "to": "offset", "offset": None}, False),
        ({"stream": "s", "to": "offset", "offset": 3}, True),
        ({"stream": "s", "to": "timestamp"}, False),
        ({"stream": "s", "to": "timestamp", "timestamp": "2025-01-01T00:00:00Z"}, True),
        ({"stream": "s", "to": "earliest"}, True),
    ],
)
def test_the_declared_reset_anchors_agree(body: dict[str, Any], valid: bool) -> None:
    assert accepted_by_model(ResetRequest, body) is valid
    assert accepted_by_schema(ResetRequest, body) is valid


@pytest.mark.parametrize(
    "text",
    [
        "2025-02-12T14:32:15Z",
        "20250212T143215Z",
        "2025-02-12",
        "2025-13-01",
        "2025-02-12T25:00Z",
        "2025-2-1",
        # Found by schemathesis: the pattern took any day up to 31 in any month, and year 0.
        "6091-06-31T17Z",
        "6091-06-30T17Z",
        "2023-02-29",
        "2024-02-29",
        "1900-02-29",
        "2000-02-29",
        "20230229",
        "20240229T12",
        "0000-01-01",
        "0001-01-01",
    ],
)
def test_the_declared_iso_8601_pattern_agrees_with_the_check(text: str) -> None:
    assert bool(re.match(ISO_8601_PATTERN, text)) is is_iso_8601(text)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(ISO_8601_PATTERN, fullmatch=True))
def test_every_string_the_declared_iso_8601_pattern_takes_is_accepted(text: str) -> None:
    """What a fuzzer generates from the pattern: each must be a real moment, or it is a schema-valid refusal."""
    assert is_iso_8601(text), text


@pytest.mark.parametrize(
    "value", ["2025-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "0045-10-28T15:02:22.95Z", 0, -1, 253402300800000]
)
def test_the_declared_timestamp_agrees_with_timestamp_ms(value: object) -> None:
    try:
        timestamp_ms(value)
        valid = True
    except ValueError:
        valid = False
    assert (
        jsonschema.Draft202012Validator(TIMESTAMP, format_checker=jsonschema.FormatChecker()).is_valid(value) is valid
    )


@pytest.mark.parametrize("document", [0, 1, "true"])
def test_a_schema_document_is_an_object_or_a_boolean_not_a_number(document: object) -> None:
    """Found by schemathesis: pydantic's lax mode took 0 for `false`, a body the document refuses."""
    from schemas.stream_schemas import StreamSchemaPut

    with pytest.raises(ValidationError):
        StreamSchemaPut.model_validate({"schema": document})
    assert StreamSchemaPut.model_validate({"schema": False}).document is False


def test_the_declared_lake_classes_are_the_ones_schemas_may_compose() -> None:
    """Found by schemathesis: any uri was a class to the document; the registry knows only its system classes."""
    assert declared(SchemaCreate)["properties"]["class_uri"]["enum"] == sorted(SYSTEM_CLASSES)


@pytest.mark.parametrize(
    ("uri", "valid"),
    [
        ("urn:x:1", True),
        ("a:\u00e9", True),
        ("a:b c", False),
        ("a:\u3000", False),
        ("a:", False),
        ("1a:b", False),
        # Found by schemathesis: `\S` let U+0085 through in the document and not in validation.
        ("L:\u0085x", False),
        ("a:\ufeff", False),
    ],
)
def test_the_declared_uri_pattern_agrees(uri: str, valid: bool) -> None:
    body = {"slug": "a", "name": "n", "schema_uri": uri}
    assert accepted_by_model(DatasetCreate, body) is valid
    assert accepted_by_schema(DatasetCreate, body) is valid


@pytest.mark.parametrize(
    ("config", "valid"),
    [
        ({"retentionMs": 2**63 - 1, "retentionBytes": -1, "minInsyncReplicas": 1}, True),
        ({"retentionMs": 2**63}, False),
        ({"retentionBytes": 2**63}, False),
        ({"minInsyncReplicas": 32_767}, True),
        ({"minInsyncReplicas": 32_768}, False),  # above any replication factor Kafka can have
    ],
)
def test_the_declared_stream_config_bounds_agree(config: dict[str, Any], valid: bool) -> None:
    """Found by schemathesis: these had no upper bound in the document."""
    body = {"name": "s", "replicationFactor": 32_767, "config": config}
    assert accepted_by_model(StreamCreate, body) is valid
    assert accepted_by_schema(StreamCreate, body) is valid

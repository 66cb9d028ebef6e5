"""The JSON Schemas the OpenAPI document declares say what the pydantic shapes enforce: for each rule, a body
that breaks it is refused by both, and one that keeps it is accepted by both."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from schemas.consumers import ResetRequest
from schemas.events import TIMESTAMP, timestamp_ms
from schemas.ingest import ISO_8601_PATTERN, is_iso_8601
from schemas.processors import ProcessorSpec


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
    ["2025-02-12T14:32:15Z", "20250212T143215Z", "2025-02-12", "2025-13-01", "2025-02-12T25:00Z", "2025-2-1"],
)
def test_the_declared_iso_8601_pattern_agrees_with_the_check(text: str) -> None:
    assert bool(re.match(ISO_8601_PATTERN, text)) is is_iso_8601(text)


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

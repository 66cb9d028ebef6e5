"""The table layout: JSON Schema types to columns, and payloads to rows (values a column cannot hold refused)."""

from __future__ import annotations

import pytest
from pyiceberg.types import BooleanType, DateType, DoubleType, LongType, StringType, TimestamptzType

from processors.lake import layout
from schemas.lake import SYSTEM_CLASSES

CLASS = next(iter(SYSTEM_CLASSES.values()))


def test_each_json_type_has_its_column() -> None:
    definition = {
        "type": "object",
        "properties": {
            "s": {"type": "string"},
            "t": {"type": "string", "format": "date-time"},
            "d": {"type": "string", "format": "date"},
            "i": {"type": ["integer", "null"]},
            "n": {"type": "number"},
            "b": {"type": "boolean"},
            "o": {"type": "object"},
            "mixed": {"type": ["string", "integer"]},
            "untyped": {},
            "timestamp": {"type": "string"},
            "_private": {"type": "string"},
            "not an identifier": {"type": "string"},
        },
    }
    columns = dict(layout.columns({"allOf": [CLASS, definition]}))
    assert columns == {
        "s": StringType(),
        "t": TimestamptzType(),
        "d": DateType(),
        "i": LongType(),
        "n": DoubleType(),
        "b": BooleanType(),
        "o": StringType(),
        "mixed": StringType(),
        "untyped": StringType(),
    }
    schema = layout.table_schema({"allOf": [CLASS, definition]})
    assert [f.name for f in schema.fields][:3] == ["event_id", "timestamp", "_schema_uri"]
    assert layout.partition_spec(schema).fields[0].name == "timestamp_day"


def test_rows_convert_or_refuse() -> None:
    schema = layout.table_schema({"properties": {"q": {"type": "integer"}, "o": {"type": "array"}}})
    shape = layout.RowShape.of(schema)
    row = shape.row({"q": 3.0, "o": [1, 2]}, {"event_id": "e"})
    assert row == {"event_id": "e", "q": 3, "o": "[1,2]"}
    assert shape.row({}, {})["q"] is None
    with pytest.raises(layout.Unholdable, match="column q"):
        shape.row({"q": 2**63}, {})
    with pytest.raises(layout.Unholdable):
        shape.row({"q": True}, {})

"""The table layout of a dataset: its columns, derived from the schema, and the row an event becomes.

    event_id        string       required   the collect request's `event_id` (or the UUIDv7 made for it)
    timestamp       timestamptz  required   the collect request's `timestamp`; partitioned by day(timestamp)
    _schema_uri     string       required   the schema the event was validated against
    _received_at    timestamptz  required   when the gateway accepted it
    _ingested_at    timestamptz  required   when the sink committed it
    _kafka_partition int         required   where it was read in the tenant's raw stream
    _kafka_offset   long         required
    _payload        string       required   the payload as JSON text, whole (so nothing is lost)
    <property>      ...          optional   one column per top-level property of the composed schema

A property's JSON Schema type decides its column: `string` is string (timestamptz with `format: date-time`,
date with `format: date`), `integer` long, `number` double, `boolean` boolean, and anything else (objects,
arrays, several types, no type) string holding the value's JSON text. `null` in a type list only makes the
column optional, which every property column is. Properties whose names are not plain identifiers
(`[A-Za-z][A-Za-z0-9_]*`), start with `_`, or are `event_id`/`timestamp`, get no column of their own; they are
in `_payload`. Pure code: no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform
from pyiceberg.types import (
    BooleanType,
    DateType,
    DoubleType,
    IcebergType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from processors.lake.event_time import parse_timestamp

EVENT_ID, TIMESTAMP, PAYLOAD = "event_id", "timestamp", "_payload"
METADATA_COLUMNS: tuple[tuple[str, IcebergType], ...] = (
    (EVENT_ID, StringType()),
    (TIMESTAMP, TimestamptzType()),
    ("_schema_uri", StringType()),
    ("_received_at", TimestamptzType()),
    ("_ingested_at", TimestamptzType()),
    ("_kafka_partition", IntegerType()),
    ("_kafka_offset", LongType()),
    (PAYLOAD, StringType()),
)
_COLUMN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")
_RESERVED = frozenset(name for name, _ in METADATA_COLUMNS)
_INT64 = (-(2**63), 2**63 - 1)


class Unholdable(ValueError):
    """A value the table's column cannot hold; the event goes to the dead-letter stream."""


def _properties(schema: Any, into: dict[str, list[Any]]) -> None:
    """The top-level properties `schema` and the members of its `allOf` declare, each with every definition."""
    if not isinstance(schema, dict):
        return
    for name, definition in (schema.get("properties") or {}).items():
        into.setdefault(name, []).append(definition)
    for member in schema.get("allOf") or []:
        _properties(member, into)


def _column_type(definitions: list[Any]) -> IcebergType:
    kinds: set[tuple[str, str | None]] = set()
    for definition in definitions:
        if not isinstance(definition, dict) or "type" not in definition:
            continue  # a definition without a type (a class's `format` refinement) constrains, it does not type
        declared = definition["type"]
        types = [declared] if isinstance(declared, str) else list(declared)
        types = [t for t in types if t != "null"]
        kinds.add((types[0], definition.get("format")) if len(types) == 1 else ("json", None))
    if len(kinds) != 1:
        return StringType()
    ((kind, fmt),) = kinds
    if kind == "string":
        return {"date-time": TimestamptzType(), "date": DateType()}.get(fmt or "", StringType())
    return {"integer": LongType(), "number": DoubleType(), "boolean": BooleanType()}.get(kind, StringType())


def columns(composed: dict[str, Any]) -> list[tuple[str, IcebergType]]:
    """The property columns of a composed schema, in declaration order."""
    found: dict[str, list[Any]] = {}
    _properties(composed, found)
    return [
        (name, _column_type(definitions))
        for name, definitions in found.items()
        if _COLUMN_NAME.fullmatch(name) and name not in _RESERVED and not name.startswith("_")
    ]


def table_schema(composed: dict[str, Any]) -> Schema:
    fields = [NestedField(i, name, kind, required=True) for i, (name, kind) in enumerate(METADATA_COLUMNS, 1)]
    offset = len(fields) + 1
    fields += [NestedField(offset + i, name, kind, required=False) for i, (name, kind) in enumerate(columns(composed))]
    return Schema(*fields)


def partition_spec(schema: Schema) -> PartitionSpec:
    source = schema.find_field(TIMESTAMP).field_id
    return PartitionSpec(
        PartitionField(source_id=source, field_id=1000, transform=DayTransform(), name="timestamp_day")
    )


def _string(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _long(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unholdable(f"{value!r} is not an integer")
    if not _INT64[0] <= value <= _INT64[1]:
        raise Unholdable(f"{value} is outside the 64-bit range of a long column")
    return value


def _double(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unholdable(f"{value!r} is not a number")
    converted = float(value)
    if not math.isfinite(converted):
        raise Unholdable(f"{value!r} does not fit a double column")
    return converted


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Unholdable(f"{value!r} is not a boolean")
    return value


def _timestamp(value: Any) -> datetime:
    try:
        return parse_timestamp(value)
    except (TypeError, ValueError) as exc:
        raise Unholdable(str(exc)) from exc


def _date(value: Any) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise Unholdable(f"{value!r} is not a date") from exc


_CONVERTERS: dict[type[IcebergType], Callable[[Any], Any]] = {
    StringType: _string,
    LongType: _long,
    IntegerType: _long,
    DoubleType: _double,
    BooleanType: _boolean,
    TimestamptzType: _timestamp,
    DateType: _date,
}


@dataclass(frozen=True, slots=True)
class RowShape:
    """How payloads become rows of one table: its property columns and their converters."""

    columns: tuple[tuple[str, Callable[[Any], Any]], ...]

    @classmethod
    def of(cls, schema: Schema) -> RowShape:
        shaped = []
        for field in schema.fields:
            if field.name in _RESERVED:
                continue
            converter = _CONVERTERS.get(type(field.field_type))
            if converter is None:
                raise ValueError(f"column {field.name!r} has a type the lake does not write: {field.field_type}")
            shaped.append((field.name, converter))
        return cls(tuple(shaped))

    def row(self, payload: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
        """The row of one event; `Unholdable` naming the column when a value does not fit."""
        row = dict(metadata)
        for name, convert in self.columns:
            value = payload.get(name)
            if value is None:
                row[name] = None
                continue
            try:
                row[name] = convert(value)
            except Unholdable as exc:
                raise Unholdable(f"column {name}: {exc}") from exc
        return row


def identifiers(names: Iterable[str]) -> list[str]:
    """`names` as DuckDB identifiers (double-quoted)."""
    return ['"' + name.replace('"', '""') + '"' for name in names]

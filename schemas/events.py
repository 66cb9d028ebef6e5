"""Request shapes for producing events (seed 003), validated in one pass straight from the JSON bytes.

Events are TypedDicts rather than models so a batch of 10,000 events validates into plain dicts without
building an object per event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Required

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints, TypeAdapter, WithJsonSchema
from pydantic.config import JsonDict
from typing_extensions import TypedDict

Compression = Literal["none", "gzip", "snappy", "lz4", "zstd"]
MAX_TIMESTAMP_MS = 253402300799999  # 9999-12-31T23:59:59.999Z


def integral(value: object) -> object:
    """JSON has one number type: 3.0 is the integer 3 (JSON Schema agrees), which strict mode would refuse."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def timestamp_ms(value: object) -> int:
    """Epoch milliseconds from epoch ms or an ISO 8601 string (UTC assumed when no offset is given)."""
    value = integral(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("timestamp must be epoch milliseconds or an ISO 8601 date-time")
    if isinstance(value, int):
        ms = value
    else:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("timestamp must be epoch milliseconds or an ISO 8601 date-time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        ms = int(moment.timestamp() * 1000)
    if not 0 <= ms <= MAX_TIMESTAMP_MS:
        raise ValueError("timestamp is out of range (1970-01-01 to 9999-12-31)")
    return ms


HeaderName = Annotated[str, StringConstraints(min_length=1, max_length=256)]
# Kafka sets no bound on headers per record; this one keeps a record's header list (walked on every produce and
# every read) small, far above the handful of headers tracing and routing use.
MAX_EVENT_HEADERS = 100
# An RFC 3339 date-time after its year, as `datetime.fromisoformat` reads it: upper-case `T` and `Z`, no leap
# second. Patterns of timestamps in the OpenAPI document end with it.
RFC_3339_TAIL = r"-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
# What `timestamp_ms` accepts, as JSON Schema: epoch ms in range, or an RFC 3339 date-time from year 1970 on (the
# pattern keeps out the years before 1970 that `format: date-time` alone allows).
TIMESTAMP: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "minimum": 0, "maximum": MAX_TIMESTAMP_MS},
        {"type": "string", "format": "date-time", "pattern": f"^(19[7-9][0-9]|[2-9][0-9]{{3}}){RFC_3339_TAIL}"},
    ],
    "description": "epoch milliseconds or an ISO 8601 date-time (UTC when it has no offset), 1970-01-01 to 9999-12-31",
}
Timestamp = Annotated[int, BeforeValidator(timestamp_ms), WithJsonSchema(TIMESTAMP)]


MAX_PARTITION = 2**31 - 1  # Kafka's partitions are int32
# Declared by hand here and below: pydantic renders a validated int's bounds as `ge`/`le`, which JSON Schema ignores.
Partition = Annotated[
    int,
    BeforeValidator(integral),
    Field(ge=0, le=MAX_PARTITION),
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": MAX_PARTITION}),
]


# A null value is a tombstone, which needs a key (checked by the produce routes); declared for the document.
_TOMBSTONE_KEYED: JsonDict = {
    "if": {"properties": {"value": {"type": "null"}}, "required": ["value"]},
    "then": {"properties": {"key": {"type": "string"}}, "required": ["key"]},
}


class EventIn(TypedDict, total=False):
    """One event to publish. `value` is any JSON (null is a tombstone and needs a key)."""

    # strict: a JSON true or "3" is not a partition, as the document says (lax mode would make them 1 and 3);
    # an integral float is (`integral`)
    __pydantic_config__ = ConfigDict(extra="forbid", strict=True, json_schema_extra=_TOMBSTONE_KEYED)  # type: ignore[misc]

    key: str | None
    value: Required[Any]
    headers: Annotated[dict[HeaderName, str], Field(max_length=MAX_EVENT_HEADERS)] | None
    partitionKey: str | None
    partition: Partition | None
    timestamp: Timestamp | None


class BatchOptions(TypedDict, total=False):
    __pydantic_config__ = ConfigDict(extra="forbid", strict=True)  # type: ignore[misc]

    compression: Compression
    timeout: Annotated[
        int,
        BeforeValidator(integral),
        Field(ge=1, le=600_000),
        WithJsonSchema(
            {"type": "integer", "minimum": 1, "maximum": 600_000, "description": "ms to wait for acknowledgements"}
        ),
    ]


class BatchIn(TypedDict, total=False):
    __pydantic_config__ = ConfigDict(extra="forbid", strict=True)  # type: ignore[misc]

    events: Required[Annotated[list[EventIn], Field(min_length=1)]]
    options: BatchOptions


EVENT = TypeAdapter(EventIn)
BATCH = TypeAdapter(BatchIn)

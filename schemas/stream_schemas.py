"""Stream schemas: the body of `PUT /api/v1/streams/{stream}/schema` and the record kept per stream.

Records live in the compacted topic `SCHEMAS_TOPIC`, keyed by the stream's Kafka topic (so tenants' schemas
never meet). Removing a schema writes a record with `schema: null` and the next version rather than a tombstone:
versions then keep growing across a delete and a new schema, and a dead letter's version names one schema.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

SCHEMAS_TOPIC = "_kafkagate_schemas"
OnInvalid = Literal["reject", "deadLetter"]
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


class StreamSchemaPut(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    # `schema` would shadow BaseModel's deprecated `schema()`; the wire name is kept through the alias.
    document: dict[str, Any] | StrictBool = Field(
        alias="schema",
        description=f"a JSON Schema Draft 2020-12 document ({DRAFT_2020_12}); `$schema`, when given, must be it",
    )
    onInvalid: OnInvalid = Field(
        default="reject",
        description="`reject`: an invalid event is refused (422 SCHEMA_VIOLATION); `deadLetter`: it is written "
        "to `<stream>.dlq` instead, and the result says `dead-lettered`",
    )


class StreamSchemaRecord(BaseModel):
    """What the schema table keeps per Kafka topic; `document` is None once the schema was removed."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    topic: str
    document: dict[str, Any] | bool | None
    onInvalid: OnInvalid
    version: int = Field(ge=1)
    updatedAt: str

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))


def decode_stream_schema(value: bytes) -> StreamSchemaRecord:
    """A schema table record; ValueError when it is not one."""
    try:
        return StreamSchemaRecord.model_validate(orjson.loads(value))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise ValueError(str(exc)) from exc

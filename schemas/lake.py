"""The lake API's records (seed 000): registered schemas, datasets and the raw events between gateway and sink.

Schemas and datasets live in compacted topics every gateway tails (`gateway.kafka.table.ReplicatedTable`) and
the lake sink reads: a draft schema keyed by its id, its published (frozen) copy by `<id>/published`, which
wins over any draft record of the same id, so an edit racing the publish can never change a published schema;
datasets by `<tenant id>/<slug>/<dataset id>`. A raw event is the JSON value the
gateway writes to a tenant's raw stream for `POST /v1/collect`, keyed by its `event_id`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic.config import JsonValue

LAKE_SCHEMAS_TOPIC = "_kafkagate_lake_schemas"
LAKE_DATASETS_TOPIC = "_kafkagate_lake_datasets"
# A tenant's raw and dead-letter streams, in its namespace (`_t.<slug>.events.raw`, `_t.<slug>.events.raw.dlq`).
RAW_STREAM = "events.raw"
# The system class every schema may compose: an event of an interaction, a JSON object whose `timestamp`, when
# it has one, is an RFC 3339 date-time.
INTERACTION_EVENT_CLASS = "https://ns.azothedge.com/pdm/class/interaction-event"
SYSTEM_CLASSES: dict[str, dict[str, Any]] = {
    INTERACTION_EVENT_CLASS: {
        "type": "object",
        "properties": {"timestamp": {"type": "string", "format": "date-time"}},
    }
}

_CLASS_URIS: list[JsonValue] = [*sorted(SYSTEM_CLASSES)]
PUBLISHED_SUFFIX = "/published"
SchemaStatus = Literal["draft", "published"]
DatasetSlug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
# Not white space, spelled out: `\S` differs between regex engines (U+0085 is white space to pydantic's, not to
# ECMA-262's; U+FEFF the other way round), and the document's pattern must mean what validation means.
_NOT_SPACE = r"[^\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
Uri = Annotated[
    str, StringConstraints(min_length=1, max_length=2048, pattern=rf"^[A-Za-z][A-Za-z0-9+.-]*:{_NOT_SPACE}+$")
]


class SchemaCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    uri: Uri = Field(description="unique across the deployment")
    title: str = Field(min_length=1, max_length=200)
    class_uri: Uri = Field(
        description=f"the class it composes; the system class is {INTERACTION_EVENT_CLASS}",
        json_schema_extra={"enum": _CLASS_URIS},  # checked when the schema is composed
    )
    field_group_uris: list[Uri] = Field(default_factory=list, max_length=32)
    definition: dict[str, Any] = Field(description="a JSON Schema (Draft 2020-12) of the event's own shape")


class SchemaPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: SchemaStatus | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    definition: dict[str, Any] | None = None
    field_group_uris: list[Uri] | None = Field(default=None, max_length=32)


class LakeSchemaRecord(BaseModel):
    """A registered schema. `composed` is what events are checked against: the class, the field groups and the
    definition as one `allOf` (fixed when the schema is published, so later changes of a field group never
    change a published schema)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    tenant_id: str
    uri: str
    title: str
    class_uri: str
    field_group_uris: list[str]
    definition: dict[str, Any]
    composed: dict[str, Any]
    status: SchemaStatus
    created_at: str
    updated_at: str

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"tenant_id", "composed"})


class DatasetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: DatasetSlug = Field(description="1-63 characters of [a-z0-9_], starting with a letter; the table name")
    name: str = Field(min_length=1, max_length=200)
    schema_uri: Uri


class DatasetRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    tenant_id: str
    slug: str
    name: str
    schema_uri: str
    schema_id: str
    iceberg_namespace: str
    iceberg_table: str
    status: Literal["active"] = "active"
    created_at: str
    updated_at: str

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"tenant_id"})


class CollectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_id: str = Field(min_length=1, max_length=2048, description="the schema's id or its uri")
    timestamp: str = Field(description="RFC 3339 date-time of the event; the table is partitioned by its day")
    payload: dict[str, Any]
    event_id: str | None = Field(
        default=None, min_length=1, max_length=128, description="the client's id; a UUIDv7 is made when absent"
    )


class RawEvent(BaseModel):
    """The value of a raw stream record. `timestamp` is normalized to RFC 3339 UTC with microseconds."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: str
    schema_id: str
    schema_uri: str
    timestamp: str
    received_at: str
    payload: dict[str, Any]


def published_key(schema_id: str) -> str:
    return schema_id + PUBLISHED_SUFFIX


def dataset_key(tenant_id: str, slug: str) -> str:
    return f"{tenant_id}/{slug}"


def decode_lake_schema(value: bytes) -> LakeSchemaRecord:
    try:
        return LakeSchemaRecord.model_validate(orjson.loads(value))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise ValueError(str(exc)) from exc


def decode_dataset(value: bytes) -> DatasetRecord:
    try:
        return DatasetRecord.model_validate(orjson.loads(value))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise ValueError(str(exc)) from exc

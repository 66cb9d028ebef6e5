"""What `/openapi.json` says about the lake API (seed 000): its shapes and what each status means."""

from __future__ import annotations

from typing import Any

from gateway.seeds.lake_envelope import ERROR_SCHEMA
from schemas.lake import CollectRequest, DatasetCreate, DatasetRecord, LakeSchemaRecord, SchemaCreate, SchemaPatch
from schemas.tenants import TenantRecord

_SCHEMA_OUT = LakeSchemaRecord.model_json_schema()
for hidden in ("tenant_id", "composed"):
    _SCHEMA_OUT["properties"].pop(hidden)
    _SCHEMA_OUT["required"].remove(hidden)
_DATASET_OUT = DatasetRecord.model_json_schema()
_DATASET_OUT["properties"].pop("tenant_id")
_DATASET_OUT["required"].remove("tenant_id")

SCHEMAS: dict[str, Any] = {
    "LakeTenant": TenantRecord.model_json_schema(),
    "LakeSchemaIn": SchemaCreate.model_json_schema(),
    "LakeSchemaPatch": SchemaPatch.model_json_schema(),
    "LakeSchema": _SCHEMA_OUT,
    "LakeSchemaList": {
        "type": "object",
        "required": ["schemas"],
        "properties": {"schemas": {"type": "array", "items": {"$ref": "#/components/schemas/LakeSchema"}}},
    },
    "LakeDatasetIn": DatasetCreate.model_json_schema(),
    "LakeDataset": _DATASET_OUT,
    "LakeDatasetList": {
        "type": "object",
        "required": ["datasets"],
        "properties": {"datasets": {"type": "array", "items": {"$ref": "#/components/schemas/LakeDataset"}}},
    },
    "LakePreview": {
        "type": "object",
        "required": ["slug", "iceberg_namespace", "iceberg_table", "columns", "rows", "count"],
        "properties": {
            "slug": {"type": "string"},
            "iceberg_namespace": {"type": "string"},
            "iceberg_table": {"type": "string"},
            "columns": {"type": "array", "items": {"type": "string"}},
            "rows": {"type": "array", "items": {"type": "object"}, "description": "latest first, by timestamp"},
            "count": {"type": "integer"},
        },
    },
    "CollectIn": CollectRequest.model_json_schema(),
    "CollectAccepted": {
        "type": "object",
        "required": ["event_id", "status"],
        "properties": {"event_id": {"type": "string"}, "status": {"type": "string", "enum": ["accepted"]}},
    },
    "LakeError": ERROR_SCHEMA,
}

STATUS_TEXT = {
    400: "malformed JSON, or a tenant-scoped call without X-Tenant-ID (or a tenant-bound key)",
    404: "no such schema or dataset for this tenant (another tenant's are 404 too)",
    409: "the uri or slug is taken, or the schema is published and frozen",
    422: "an invalid field, a schema that is not published or not visible, or a payload that breaks the schema "
    "(`errors` lists each violation as a JSON pointer into the body)",
    503: "Kafka or the lake catalog is unavailable; retry after Retry-After",
    504: "Kafka did not acknowledge in time; the event may have been accepted",
}

TENANT_HEADER = (("X-Tenant-ID", "the tenant's id or slug (not needed with a tenant-bound key)", False),)

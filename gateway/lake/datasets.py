"""Datasets: a tenant's named Iceberg tables, each bound to a published schema, in a compacted topic every
gateway tails (keyed `<tenant id>/<slug>`). A slug names one dataset per tenant: of two records claiming it,
the one written first keeps it. The table is created (from the schema's composition, `processors.lake.layout`)
before the record is written, so a dataset the sink reads about always has its table.
"""

from __future__ import annotations

import uuid6

from gateway import errors as ge
from gateway.kafka.table import Entry, ReplicatedTable
from gateway.lake.schema_registry import SchemaRegistry
from gateway.lake.tables import LakeTables
from gateway.timefmt import now_iso
from schemas.lake import DatasetCreate, DatasetRecord, dataset_key


class DatasetStore:
    def __init__(self, table: ReplicatedTable[DatasetRecord], schemas: SchemaRegistry, tables: LakeTables):
        self.table = table
        self.schemas = schemas
        self.tables = tables

    def _owner(self, tenant_id: str, slug: str) -> Entry[DatasetRecord] | None:
        claims = [e for e in self.table.entries().values() if e.value.tenant_id == tenant_id and e.value.slug == slug]
        return min(claims, key=lambda e: e.offset) if claims else None

    async def get(self, tenant_id: str, slug: str) -> DatasetRecord:
        found = self._owner(tenant_id, slug)
        if found is None:
            await self.table.sync()
            found = self._owner(tenant_id, slug)
        if found is None:
            raise ge.NotFound(f"dataset {slug!r} does not exist")
        return found.value

    async def datasets(self, tenant_id: str) -> list[DatasetRecord]:
        await self.table.sync()
        owners = {(e.value.slug): self._owner(tenant_id, e.value.slug) for e in self.table.entries().values()}
        return sorted((e.value for e in owners.values() if e is not None), key=lambda d: d.slug)

    async def create(self, tenant_id: str, spec: DatasetCreate) -> DatasetRecord:
        await self.table.sync()
        if self._owner(tenant_id, spec.slug) is not None:
            raise ge.Conflict(f"a dataset with slug {spec.slug!r} already exists")
        schema = await self.schemas.find(tenant_id, spec.schema_uri)
        if schema is None:
            message = f"no schema with uri {spec.schema_uri!r}"
            raise ge.ValidationFailed(message, [{"field": "schema_uri", "message": message}])
        if schema.status != "published":
            message = f"schema {spec.schema_uri!r} is a draft; publish it before building a dataset from it"
            raise ge.ValidationFailed(message, [{"field": "schema_uri", "message": message}])
        namespace, name = await self.tables.ensure_table(tenant_id, spec.slug, schema.composed)
        now = now_iso()
        record = DatasetRecord(
            id=str(uuid6.uuid7()),
            tenant_id=tenant_id,
            slug=spec.slug,
            name=spec.name,
            schema_uri=schema.uri,
            schema_id=schema.id,
            iceberg_namespace=namespace,
            iceberg_table=name,
            created_at=now,
            updated_at=now,
        )
        key = dataset_key(tenant_id, spec.slug)
        await self.table.put(f"{key}/{record.id}", record.model_dump_json().encode())
        owner = self._owner(tenant_id, spec.slug)
        if owner is None or owner.value.id != record.id:
            await self.table.delete(f"{key}/{record.id}")
            raise ge.Conflict(f"a dataset with slug {spec.slug!r} already exists")
        return record

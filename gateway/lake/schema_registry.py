"""The schema registry: tenants' event schemas in a compacted topic every gateway tails, by id.

A schema starts as a draft; publishing freezes it (any later change is a 409) and fixes its composition, the
`allOf` of its class, its field groups' definitions and its own definition, which is what events are checked
against. The published copy is written under its own key (`schemas.lake.published_key`) and always wins over
the draft record, so a draft edit that races the publish on another gateway changes nothing that is published.

A `uri` names one schema in the whole deployment: of two records claiming it, the one written first (lowest
offset) keeps it, and the other is deleted again and answered 409, as with tenant slugs.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import uuid6

from gateway import errors as ge
from gateway.kafka.table import Entry, ReplicatedTable
from gateway.stream_schemas import CompiledSchema, compile_schema
from gateway.timefmt import now_iso
from schemas.lake import (
    PUBLISHED_SUFFIX,
    SYSTEM_CLASSES,
    LakeSchemaRecord,
    SchemaCreate,
    SchemaPatch,
    published_key,
)


def _invalid(field: str, message: str) -> ge.ValidationFailed:
    return ge.ValidationFailed(message, [{"field": field, "message": message}])


class SchemaRegistry:
    def __init__(self, table: ReplicatedTable[LakeSchemaRecord]):
        self.table = table
        self._compiled: dict[str, CompiledSchema] = {}

    # --- lookups ------------------------------------------------------------------------------------------

    def _uri_owner(self, uri: str) -> Entry[LakeSchemaRecord] | None:
        claims = [e for e in self.table.entries().values() if e.value.uri == uri]
        return min(claims, key=lambda e: e.offset) if claims else None

    def _current(self, schema_id: str) -> LakeSchemaRecord | None:
        return self.table.get(published_key(schema_id)) or self.table.get(schema_id)

    def _visible(self, tenant_id: str, id_or_uri: str) -> LakeSchemaRecord | None:
        found = None if id_or_uri.endswith(PUBLISHED_SUFFIX) else self._current(id_or_uri)
        if found is None:
            owner = self._uri_owner(id_or_uri)
            found = None if owner is None else self._current(owner.value.id)
        return found if found is not None and found.tenant_id == tenant_id else None

    async def find(self, tenant_id: str, id_or_uri: str) -> LakeSchemaRecord | None:
        """The schema `id_or_uri` (its id or its uri) names for `tenant_id`, or None when it sees none."""
        found = self._visible(tenant_id, id_or_uri)
        if found is None:
            await self.table.sync()
            found = self._visible(tenant_id, id_or_uri)
        return found

    async def get(self, tenant_id: str, id_or_uri: str) -> LakeSchemaRecord:
        found = await self.find(tenant_id, id_or_uri)
        if found is None:
            raise ge.NotFound(f"schema {id_or_uri!r} does not exist")
        return found

    async def schemas(self, tenant_id: str) -> list[LakeSchemaRecord]:
        await self.table.sync()
        ids = {e.value.id for e in self.table.entries().values() if e.value.tenant_id == tenant_id}
        return sorted((s for s in map(self._current, ids) if s is not None), key=_by_id)

    def compiled(self, schema: LakeSchemaRecord) -> CompiledSchema:
        """The validator of a schema's composition, with formats (`date-time`, ...) checked."""
        compiled = self._compiled.get(schema.id)
        if compiled is None or compiled.version != hash(schema.updated_at):
            validator = jsonschema_rs.Draft202012Validator(
                schema.composed, offline=True, validate_formats=True, pattern_options=jsonschema_rs.RegexOptions()
            )
            compiled = CompiledSchema(hash(schema.updated_at), "reject", validator)
            self._compiled[schema.id] = compiled
        return compiled

    # --- changes ------------------------------------------------------------------------------------------

    async def _compose(
        self, tenant_id: str, class_uri: str, field_group_uris: list[str], definition: dict[str, Any]
    ) -> dict[str, Any]:
        compile_schema(definition)
        members = [SYSTEM_CLASSES.get(class_uri)]
        if members[0] is None:
            known = ", ".join(sorted(SYSTEM_CLASSES))
            raise _invalid("class_uri", f"unknown class {class_uri!r}; the classes are: {known}")
        for index, uri in enumerate(field_group_uris):
            group = await self.find(tenant_id, uri)
            if group is None or group.status != "published":
                raise _invalid(f"field_group_uris/{index}", f"no published schema {uri!r} to use as a field group")
            members.append(group.definition)
        composed = {"allOf": [*members, definition]}
        compile_schema(composed)
        return composed

    async def create(self, tenant_id: str, spec: SchemaCreate) -> LakeSchemaRecord:
        await self.table.sync()
        if self._uri_owner(spec.uri) is not None:
            raise ge.Conflict(f"a schema with uri {spec.uri!r} already exists")
        composed = await self._compose(tenant_id, spec.class_uri, spec.field_group_uris, spec.definition)
        now = now_iso()
        record = LakeSchemaRecord(
            id=str(uuid6.uuid7()),
            tenant_id=tenant_id,
            uri=spec.uri,
            title=spec.title,
            class_uri=spec.class_uri,
            field_group_uris=spec.field_group_uris,
            definition=spec.definition,
            composed=composed,
            status="draft",
            created_at=now,
            updated_at=now,
        )
        await self.table.put(record.id, record.model_dump_json().encode())
        owner = self._uri_owner(spec.uri)
        if owner is None or owner.value.id != record.id:
            await self.table.delete(record.id)
            raise ge.Conflict(f"a schema with uri {spec.uri!r} already exists")
        return record

    async def patch(self, tenant_id: str, id_or_uri: str, patch: SchemaPatch) -> LakeSchemaRecord:
        await self.table.sync()
        current = await self.get(tenant_id, id_or_uri)
        changes = patch.model_dump(exclude_none=True)
        if current.status == "published":
            if any(getattr(current, name) != value for name, value in changes.items()):
                raise ge.Conflict(f"schema {current.uri!r} is published and frozen; register a new uri to change it")
            return current
        updated = current.model_copy(update={**changes, "updated_at": now_iso()})
        composed = await self._compose(tenant_id, updated.class_uri, updated.field_group_uris, updated.definition)
        updated = updated.model_copy(update={"composed": composed})
        key = published_key(updated.id) if updated.status == "published" else updated.id
        await self.table.put(key, updated.model_dump_json().encode())
        return self._current(updated.id) or updated


def _by_id(schema: LakeSchemaRecord) -> str:
    return schema.id  # UUIDv7: creation order

"""The tenant store: tenants in a compacted topic every gateway tails, addressed by id (UUIDv7) or slug.

Slugs are unique. Two gateways creating the same slug at the same moment both write; the record written first
(lowest offset) keeps the slug and the other is deleted again and answered 409, so no two tenants share a slug.
"""

from __future__ import annotations

import uuid6

from gateway import errors as ge
from gateway.kafka.table import Entry, ReplicatedTable
from gateway.timefmt import now_iso
from schemas.tenants import TenantCreate, TenantRecord


class TenantStore:
    def __init__(self, table: ReplicatedTable[TenantRecord]):
        self.table = table
        self._owners: dict[str, Entry[TenantRecord]] = {}
        self._owners_version = -1

    def _owner(self, slug: str) -> Entry[TenantRecord] | None:
        """The tenant holding `slug`: of the records naming it, the one written first."""
        if self._owners_version != self.table.version:
            # Rebuilt once per change of the table, so authentication stays a dict lookup.
            owners: dict[str, Entry[TenantRecord]] = {}
            for entry in self.table.entries().values():
                held = owners.get(entry.value.slug)
                if held is None or entry.offset < held.offset:
                    owners[entry.value.slug] = entry
            self._owners, self._owners_version = owners, self.table.version
        return self._owners.get(slug)

    def find(self, id_or_slug: str) -> TenantRecord | None:
        """A tenant as this gateway's tail has it now (no Kafka round trip)."""
        found = self.table.get(id_or_slug)
        if found is not None:
            return found if (owner := self._owner(found.slug)) is not None and owner.value.id == found.id else None
        owner = self._owner(id_or_slug)
        return None if owner is None else owner.value

    async def find_fresh(self, id_or_slug: str) -> TenantRecord | None:
        """Like `find`, but catches up with Kafka first when the tenant is unknown here (created elsewhere)."""
        found = self.find(id_or_slug)
        if found is None:
            await self.table.sync()
            found = self.find(id_or_slug)
        return found

    async def create(self, spec: TenantCreate) -> TenantRecord:
        await self.table.sync()
        if self._owner(spec.slug) is not None:
            raise ge.TenantAlreadyExists(f"a tenant with slug {spec.slug!r} already exists")
        now = now_iso()
        record = TenantRecord(
            id=str(uuid6.uuid7()),
            slug=spec.slug,
            name=spec.name,
            metadata=spec.metadata,
            created_at=now,
            updated_at=now,
        )
        await self.table.put(record.id, record.model_dump_json().encode())
        owner = self._owner(spec.slug)
        if owner is None or owner.value.id != record.id:
            await self.table.delete(record.id)
            raise ge.TenantAlreadyExists(f"a tenant with slug {spec.slug!r} already exists")
        return record

    async def tenants(self) -> list[TenantRecord]:
        await self.table.sync()
        held = [e.value for e in self.table.entries().values() if self.find(e.value.id) is not None]
        return sorted(held, key=lambda t: t.id)  # UUIDv7: creation order

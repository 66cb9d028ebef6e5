"""The lake sink's copy of the registries it routes by: tenants, lake schemas and datasets.

It reads the same compacted topics the gateways write (`gateway.kafka.table.ReplicatedTable`), from their
beginnings, with a group-less consumer, and keeps the latest record per key. `sync()` reads up to what Kafka
held when it was called: the sink calls it before deciding that an event's schema or dataset does not exist,
so a schema published (or a dataset created) just before the event was collected is always seen.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.lake import (
    LAKE_DATASETS_TOPIC,
    LAKE_SCHEMAS_TOPIC,
    DatasetRecord,
    LakeSchemaRecord,
    decode_dataset,
    decode_lake_schema,
    published_key,
)
from schemas.tenants import TENANTS_TOPIC, TenantRecord, decode_tenant

log = logging.getLogger(__name__)

_COMPACTED = {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}


@dataclass(frozen=True, slots=True)
class Keyed:
    value: Any
    offset: int


class LakeRegistry:
    def __init__(self, bootstrap: str):
        self._bootstrap = bootstrap
        self._decoders: dict[str, Callable[[bytes], Any]] = {
            TENANTS_TOPIC: decode_tenant,
            LAKE_SCHEMAS_TOPIC: decode_lake_schema,
            LAKE_DATASETS_TOPIC: decode_dataset,
        }
        self._tables: dict[str, dict[str, Keyed]] = {topic: {} for topic in self._decoders}
        self._tps = [TopicPartition(topic, 0) for topic in self._decoders]
        self._consumer: AIOKafkaConsumer | None = None
        self._validators: dict[str, jsonschema_rs.Validator] = {}
        self.version = 0
        # Derived indexes, rebuilt once per change of the registries (lookups run once per event).
        self._indexed = -1
        self._slugs: dict[str, TenantRecord] = {}
        self._bound: dict[tuple[str, str], list[DatasetRecord]] = {}

    async def start(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        await admin.start()
        try:
            for topic in self._decoders:
                # The gateway creates these on first use with the same settings; whoever is first wins.
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([NewTopic(topic, 1, 1, topic_configs=_COMPACTED)])
        finally:
            await admin.close()
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False)
        await consumer.start()
        consumer.assign(self._tps)
        await consumer.seek_to_beginning(*self._tps)
        self._consumer = consumer
        await self.sync()

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def poll(self, timeout_ms: int = 0) -> None:
        assert self._consumer is not None  # noqa: S101 - started first
        fetched = await self._consumer.getmany(*self._tps, timeout_ms=timeout_ms)
        for tp, records in fetched.items():
            for record in records:
                if record.key is not None:
                    self._apply(tp.topic, record.key.decode("utf-8", errors="replace"), record.value, record.offset)

    async def sync(self) -> None:
        assert self._consumer is not None  # noqa: S101 - started first
        ends = await self._consumer.end_offsets(self._tps)
        for tp in self._tps:
            while await self._consumer.position(tp) < ends[tp]:
                await self.poll(timeout_ms=500)

    def _apply(self, topic: str, key: str, value: bytes | None, offset: int) -> None:
        self.version += 1
        table = self._tables[topic]
        if value is None:
            table.pop(key, None)
            return
        try:
            table[key] = Keyed(self._decoders[topic](value), offset)
        except ValueError as exc:
            log.warning("skipping malformed record at %s offset %d: %s", topic, offset, exc)

    # --- lookups ------------------------------------------------------------------------------------------

    def _index(self) -> None:
        if self._indexed == self.version:
            return
        slugs: dict[str, Keyed] = {}
        for keyed in self._tables[TENANTS_TOPIC].values():
            held = slugs.get(keyed.value.slug)
            if held is None or keyed.offset < held.offset:
                slugs[keyed.value.slug] = keyed
        datasets: dict[tuple[str, str], Keyed] = {}
        for keyed in self._tables[LAKE_DATASETS_TOPIC].values():
            key = (keyed.value.tenant_id, keyed.value.slug)
            held = datasets.get(key)
            if held is None or keyed.offset < held.offset:
                datasets[key] = keyed
        bound: dict[tuple[str, str], list[DatasetRecord]] = {}
        for keyed in datasets.values():
            bound.setdefault((keyed.value.tenant_id, keyed.value.schema_uri), []).append(keyed.value)
        self._slugs = {slug: keyed.value for slug, keyed in slugs.items()}
        self._bound, self._indexed = bound, self.version

    def tenant_by_slug(self, slug: str) -> TenantRecord | None:
        """The tenant holding `slug`: of the records naming it, the one written first (as the gateway decides)."""
        self._index()
        return self._slugs.get(slug)

    def schema(self, schema_id: str) -> LakeSchemaRecord | None:
        """The schema's published copy when it has one, else its draft."""
        schemas = self._tables[LAKE_SCHEMAS_TOPIC]
        found = schemas.get(published_key(schema_id)) or schemas.get(schema_id)
        return None if found is None else found.value

    def datasets(self, tenant_id: str, schema_uri: str) -> list[DatasetRecord]:
        """The datasets of `tenant_id` bound to `schema_uri`; of two records with one slug the first one."""
        self._index()
        return self._bound.get((tenant_id, schema_uri), [])

    def validator(self, schema: LakeSchemaRecord) -> jsonschema_rs.Validator:
        """The compiled composition of a published schema (published schemas never change)."""
        validator = self._validators.get(schema.id)
        if validator is None:
            validator = jsonschema_rs.Draft202012Validator(
                schema.composed, offline=True, validate_formats=True, pattern_options=jsonschema_rs.RegexOptions()
            )
            self._validators[schema.id] = validator
        return validator

"""The lake services of one gateway app: registries tailed from Kafka, the catalog, the DuckDB previewer."""

from __future__ import annotations

from gateway.kafka.clients import KafkaClients
from gateway.kafka.table import ReplicatedTable
from gateway.lake.datasets import DatasetStore
from gateway.lake.preview import Previewer
from gateway.lake.schema_registry import SchemaRegistry
from gateway.lake.tables import LakeTables
from gateway.settings import Settings
from schemas.lake import (
    LAKE_DATASETS_TOPIC,
    LAKE_SCHEMAS_TOPIC,
    DatasetRecord,
    LakeSchemaRecord,
    decode_dataset,
    decode_lake_schema,
)


class LakeServices:
    def __init__(self, settings: Settings, kafka: KafkaClients):
        self.settings = settings.lake
        self._schema_table: ReplicatedTable[LakeSchemaRecord] = ReplicatedTable(
            settings, kafka.admin, kafka.producer, LAKE_SCHEMAS_TOPIC, decode_lake_schema
        )
        self._dataset_table: ReplicatedTable[DatasetRecord] = ReplicatedTable(
            settings, kafka.admin, kafka.producer, LAKE_DATASETS_TOPIC, decode_dataset
        )
        self.tables = LakeTables(settings.lake)
        self.schemas = SchemaRegistry(self._schema_table)
        self.datasets = DatasetStore(self._dataset_table, self.schemas, self.tables)
        self.previewer = Previewer(settings.lake)

    async def close(self) -> None:
        await self._schema_table.close()
        await self._dataset_table.close()
        self.previewer.close()

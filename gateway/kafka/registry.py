"""The processor registry: specs in a compacted Kafka topic, worker metrics in another, both tailed into memory.

Kafka is the only store, so any number of gateways share one registry. Each gateway tails both topics as
replicated tables (`gateway.kafka.table`): the latest spec record per processor and the latest metrics
snapshot per (processor, worker). Reads first `sync()`: they wait until the tails have read what Kafka held at
that moment, so a gateway never answers from a view older than the request. A write returns once this gateway
has read it back (read-your-writes).

Writes on one gateway are serialized by `write_lock`. Two gateways writing the same processor at the same moment
are not (Kafka offers no compare-and-set): the later record wins, and a name could be taken twice in a race.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from pydantic import ValidationError

from gateway.kafka.admin import StreamAdmin
from gateway.kafka.producer import EventProducer
from gateway.kafka.table import ReplicatedTable
from gateway.settings import Settings
from processors.functions import FunctionRegistry
from schemas.processor_api import (
    METRICS_RETENTION_MS,
    METRICS_TOPIC,
    SPEC_TOPIC,
    MetricsSnapshot,
    ProcessorRecord,
)

log = logging.getLogger(__name__)

TOPIC_CONFIGS: dict[str, dict[str, str]] = {
    SPEC_TOPIC: {"cleanup.policy": "compact"},
    METRICS_TOPIC: {"cleanup.policy": "delete", "retention.ms": str(METRICS_RETENTION_MS)},
}


def _record(value: bytes) -> ProcessorRecord:
    try:
        return ProcessorRecord.model_validate_json(value)
    except ValidationError as exc:
        raise ValueError(str(exc)) from exc


def _snapshot(value: bytes) -> MetricsSnapshot:
    try:
        return MetricsSnapshot.model_validate_json(value)
    except ValidationError as exc:
        raise ValueError(str(exc)) from exc


def _worker_key(_: str, snapshot: MetricsSnapshot) -> str:
    return f"{snapshot.processor_id}\x00{snapshot.worker}"


class ProcessorRegistry:
    """Processor spec records and worker metrics, as this gateway has read them from Kafka.

    Starts lazily: the first `sync()` creates the two topics when missing (1 partition, the internal replication
    factor), starts the tails and waits until they have caught up. `functions` is the map-function registry specs
    are compiled against (default: the built-ins plus the `kafkagate.functions` entry points, loaded now so a broken
    plugin stops startup).
    """

    def __init__(
        self,
        settings: Settings,
        admin: StreamAdmin,
        producer: EventProducer,
        functions: FunctionRegistry | None = None,
    ):
        self.functions = functions if functions is not None else FunctionRegistry.load()
        self.write_lock = asyncio.Lock()
        self._specs = ReplicatedTable(settings, admin, producer, SPEC_TOPIC, _record, configs=TOPIC_CONFIGS[SPEC_TOPIC])
        self._metrics = ReplicatedTable(
            settings,
            admin,
            producer,
            METRICS_TOPIC,
            _snapshot,
            configs=TOPIC_CONFIGS[METRICS_TOPIC],
            entry_key=_worker_key,
        )

    async def close(self) -> None:
        await self._specs.close()
        await self._metrics.close()

    async def sync(self, *, metrics: bool = False) -> None:
        """Start if needed, then wait until the tail has read everything written to the spec topic so far (and
        to the metrics topic when `metrics`). Both tails run from the first call on: a processor's status comes
        from the metrics its workers report, even where a read does not wait for the latest of them."""
        await self._metrics.start()
        if metrics:
            await asyncio.gather(self._specs.sync(), self._metrics.sync())
        else:
            await self._specs.sync()

    # --- reads (call sync() first) ------------------------------------------------------------------------

    def get(self, processor_id: str) -> ProcessorRecord | None:
        return self._specs.get(processor_id)

    def by_name(self, name: str) -> ProcessorRecord | None:
        return next((r for r in self._records() if r.name == name), None)

    def _records(self) -> list[ProcessorRecord]:
        return [entry.value for entry in self._specs.entries().values()]

    def records(self) -> list[ProcessorRecord]:
        """Live processors, by name."""
        return sorted(self._records(), key=lambda r: (r.name, r.processor_id))

    def snapshots(self, processor_id: str) -> Iterable[MetricsSnapshot]:
        """The latest snapshot of each worker that reported for this processor (any version), while the
        processor exists."""
        if self._specs.get(processor_id) is None:
            return []
        return [e.value for e in self._metrics.entries().values() if e.value.processor_id == processor_id]

    # --- writes (hold write_lock around read-modify-write) ------------------------------------------------

    async def write(self, record: ProcessorRecord) -> None:
        """Store a new version (or desired state) of a processor; returns once this gateway reads it back."""
        await self._specs.put(record.processor_id, record.to_json())

    async def remove(self, processor_id: str) -> None:
        """Write the tombstone that deletes a processor; returns once this gateway reads it back."""
        await self._specs.delete(processor_id)

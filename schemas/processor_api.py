"""What the gateway and the processor workers exchange through Kafka: the topic names, the spec record and the
metrics snapshot. Both sides import this module, so the two never drift apart.

Spec topic ``SPEC_TOPIC`` (compacted, 1 partition): key = processor id (UTF-8), value = a ``ProcessorRecord`` as
JSON, or null (a tombstone) once the processor is deleted.

Metrics topic ``METRICS_TOPIC`` (delete, retention 1 h, 1 partition): key = processor id, value = one worker's
``MetricsSnapshot`` as JSON, published every ``METRICS_INTERVAL_MS``. A processor whose newest snapshot is older
than ``STALE_AFTER_MS`` is reported as stale.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from schemas.processors import ProcessorSpec

SPEC_TOPIC = "_kafkagate.processors"
METRICS_TOPIC = "_kafkagate.processor-metrics"
METRICS_INTERVAL_MS = 2000
STALE_AFTER_MS = 10_000
METRICS_RETENTION_MS = 3_600_000


def processor_group(processor_id: str) -> str:
    """The consumer group (and Faust app id) of a processor's workers; its committed offsets are the progress."""
    return f"_kafkagate.proc.{processor_id}"


Desired = Literal["running", "paused"]
WorkerStatus = Literal["starting", "running", "failed"]
Count = Annotated[int, Field(ge=0)]


class _Wire(BaseModel):
    # Unknown fields are ignored, so a newer worker or gateway can add fields without breaking the other side.
    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True, frozen=True
    )

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json", by_alias=True))


class ProcessorRecord(_Wire):
    """One version of a processor. ``version`` starts at 1 and grows by one per spec update; pausing and resuming
    change ``desired`` (and ``updated_at``) but not the version. Times are ISO 8601 UTC with milliseconds."""

    processor_id: str
    version: Annotated[int, Field(ge=1)]
    name: str
    spec: dict[str, Any]
    desired: Desired = "running"
    # The Kafka prefix of the tenant that owns the processor ("" untenanted): where its lookup tables live.
    namespace: str = ""
    created_at: str
    updated_at: str

    def processor_spec(self) -> ProcessorSpec:
        """The spec as the validated model (it was validated before it was written)."""
        return ProcessorSpec.model_validate_json(orjson.dumps(self.spec))


def spec_json(spec: ProcessorSpec) -> dict[str, Any]:
    """The normalized form stored in ``ProcessorRecord.spec``: defaults filled in, camelCase names."""
    document: dict[str, Any] = spec.model_dump(mode="json", by_alias=True)
    return document


class Counters(_Wire):
    """Cumulative since the worker started."""

    events_in: Count = 0
    events_processed: Count = 0
    events_filtered: Count = 0
    events_emitted: Count = 0
    late_events: Count = 0
    dlq_events: Count = 0
    errors: Count = 0


class OpenWindow(_Wire):
    window_start: int
    window_end: int
    events_count: Count = 0


class MetricsSnapshot(_Wire):
    """One worker's view, published every ``interval_ms``.

    ``worker`` is ``<host>:<pid>:<index>``; ``at`` and ``last_event_at`` are epoch ms. ``throughput`` is events
    processed per second over the worker's last interval; ``avg_latency_ms`` is the mean, over the events processed
    in that interval, of (time the event finished processing - its record timestamp); ``lag`` is the sum over the
    worker's source partitions of (end offset - committed offset); ``windows`` are the windows currently open.
    """

    processor_id: str
    version: Annotated[int, Field(ge=1)]
    worker: str
    status: WorkerStatus
    reason: str | None = None
    at: int
    interval_ms: Annotated[int, Field(gt=0)] = METRICS_INTERVAL_MS
    counters: Counters = Field(default_factory=Counters)
    throughput: Annotated[float, Field(ge=0)] = 0.0
    avg_latency_ms: float = 0.0
    lag: Count = 0
    last_event_at: int | None = None
    windows: list[OpenWindow] = Field(default_factory=list)

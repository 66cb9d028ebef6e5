"""Typed responses of the native API. Attributes are snake_case; the wire's camelCase names are their aliases.

Every model keeps fields it does not know (`extra="allow"`), so a newer gateway's additions reach the caller
instead of failing validation, and `model_dump(mode="json", by_alias=True)` gives back the document as sent.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
        frozen=True,
        defer_build=True,  # validators are built on first use: the command line starts faster
    )


class SnakeModel(BaseModel):
    """Documents whose wire names are already snake_case (tenants, access tokens)."""

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)


# --- streams ---


class PartitionDetail(Model):
    partition: int
    leader: str
    replicas: list[str]
    in_sync_replicas: list[str]
    start_offset: int
    end_offset: int
    size_bytes: int


class Stream(Model):
    name: str
    stream_id: str | None = None
    partitions: int
    replication_factor: int
    total_messages: int
    total_size: int
    config: dict[str, int | str] = Field(default_factory=dict)
    partition_details: list[PartitionDetail] = Field(default_factory=list)


class StreamEntry(Model):
    name: str
    stream_id: str | None = None


class StreamPage(Model):
    streams: list[StreamEntry]
    next_after: str | None = None


class StreamDeleted(Model):
    status: str
    stream_name: str
    deleted_at: str


class StreamSchema(Model):
    stream: str
    document: dict[str, Any] | None = Field(default=None, alias="schema")
    on_invalid: str | None = None
    version: int
    updated_at: str | None = None


# --- producing ---


class Published(Model):
    """One event's outcome: `status` is `published`, or `dead-lettered` (written to `stream`, the `.dlq`)."""

    event_id: str
    partition: int
    offset: int
    timestamp: str
    status: Literal["published", "dead-lettered"]
    stream: str | None = None
    reason: str | None = None
    schema_version: int | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)


class Failed(Model):
    """A batch entry that was not written; `outcome: "unknown"` when it timed out (it may still have landed)."""

    index: int
    status: Literal["failed"]
    code: int
    error: str
    message: str
    retriable: bool = False
    outcome: str | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)


class BatchResult(Model):
    batch_id: str
    total_events: int
    success_count: int
    failure_count: int
    dead_lettered_count: int = 0
    results: list[Published | Failed]


# --- reading ---


class Event(Model):
    """A consumed event. `value` is the JSON as produced, or base64 text when `value_encoding == "base64"`."""

    event_id: str
    partition: int
    offset: int
    timestamp: str
    key: str | None = None
    value: Any = None
    headers: dict[str, str] = Field(default_factory=dict)
    key_encoding: str | None = None
    value_encoding: str | None = None
    base64_headers: list[str] = Field(default_factory=list)


class PollMetadata(Model):
    consumer_group: str
    lag: int | None = None
    next_offset: int | None = None
    next_offsets: dict[str, int] = Field(default_factory=dict)
    assigned_partitions: list[int] = Field(default_factory=list)


class Poll(Model):
    events: list[Event]
    metadata: PollMetadata


class PartitionRead(Model):
    events: list[Event]
    next_offset: int


class TimeOffset(Model):
    partition: int
    offset: int | None = None
    timestamp: str | None = None


class OffsetsAtTime(Model):
    stream: str
    timestamp: str
    offsets: list[TimeOffset]


# --- consumer groups ---


class StreamOffset(Model):
    stream: str
    partition: int
    offset: int


class Committed(Model):
    status: str
    committed_offsets: list[StreamOffset]


class GroupEntry(Model):
    group_id: str
    state: str
    members: int


class GroupList(Model):
    consumer_groups: list[GroupEntry]


class Assignment(Model):
    stream: str
    partition: int


class Member(Model):
    member_id: str
    client_id: str | None = None
    host: str | None = None
    assignments: list[Assignment] = Field(default_factory=list)


class GroupOffset(Model):
    stream: str
    partition: int
    committed_offset: int
    end_offset: int
    lag: int


class Group(Model):
    group_id: str
    state: str
    members: list[Member]
    offsets: list[GroupOffset]
    lag: int


class GroupReset(Model):
    status: str
    group_id: str
    offsets: list[StreamOffset]


class GroupDeleted(Model):
    status: str
    group_id: str


class SessionsClosed(Model):
    status: str
    group_id: str
    closed_sessions: int
    streams: list[str] = Field(default_factory=list, description="the streams the closed members read")


# --- processors ---


class ProcessorSummary(Model):
    processor_id: str
    name: str | None = None
    version: int
    status: str
    reason: str | None = None
    desired: str
    created_at: str
    updated_at: str


class ProcessorTopics(Model):
    source: str | None = None
    sink: str | None = None
    routes: list[str | None] = Field(default_factory=list)
    dlq: str | None = None
    repartition: str | None = None


class ProcessorMetricsSummary(Model):
    events_processed: int
    throughput: float
    lag: int


class Processor(ProcessorSummary):
    spec: dict[str, Any]
    topics: ProcessorTopics | None = None
    metrics: ProcessorMetricsSummary | None = None


class ProcessorList(Model):
    processors: list[ProcessorSummary]


class ProcessorDeleted(Model):
    status: str
    processor_id: str
    name: str | None = None
    deleted_at: str
    kept_topics: list[str] = Field(default_factory=list)


class MetricValues(Model):
    events_in: int
    events_processed: int
    throughput: float
    avg_latency: float
    lag: int
    error_rate: float
    errors: int
    events_emitted: int
    events_filtered: int
    late_events: int
    dlq_events: int
    last_event_at: str | None = None


class WindowCount(Model):
    window_start: str
    window_end: str
    events_count: int


class WorkerStatus(Model):
    worker: str
    status: str
    at: str
    reason: str | None = None


class ProcessorMetrics(Model):
    processor_id: str
    version: int
    status: str
    reason: str | None = None
    metrics: MetricValues
    windows: list[WindowCount] = Field(default_factory=list)
    workers: list[WorkerStatus] = Field(default_factory=list)


# --- keys, tenants, tokens ---


class RateLimit(Model):
    requests_per_second: float | None = None
    bytes_per_second: float | None = None


class ApiKey(Model):
    key_id: str
    name: str
    tenant: str | None = None
    scopes: list[str]
    streams: list[str] | None = None
    created_at: str
    expires_at: str | None = None
    rate_limit: RateLimit | None = None


class CreatedKey(ApiKey):
    """A new key with its token: the only time the gateway shows the token."""

    token: str


class KeyList(Model):
    keys: list[ApiKey]


class KeyRevoked(Model):
    status: str
    key_id: str
    revoked_at: str


class Tenant(SnakeModel):
    id: str
    slug: str
    name: str
    status: str = "active"
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: str
    updated_at: str


class TenantList(SnakeModel):
    tenants: list[Tenant]


class AccessToken(SnakeModel):
    access_token: str
    token_type: str
    expires_in: int

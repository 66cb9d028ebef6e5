"""Response shapes of stream administration (seed 003): what `GET /api/v1/streams[/{stream}]` and the create,
alter calls answer. They document the responses in the OpenAPI document; `gateway.routes.streams` builds them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

StreamId = Annotated[
    str | None,
    Field(
        description="the stream's id: its Kafka topic id as a canonical UUID. It is what the Streaming Ingest API "
        "(POST /v1/streams/ingest) takes in X-Stream-Id, and it changes when a stream is deleted and created "
        "again under the same name. null only for a stream deleted while it was being listed",
        examples=["a0c3b4de-1923-4ff1-8dba-f92ad912d20f"],
    ),
]


class PartitionDocument(TypedDict):
    partition: int
    leader: str
    replicas: list[str]
    inSyncReplicas: list[str]
    startOffset: int
    endOffset: int
    sizeBytes: int


class StreamDocument(TypedDict):
    name: str
    streamId: StreamId
    partitions: int
    replicationFactor: int
    totalMessages: int
    totalSize: int
    config: dict[str, int | str]
    partitionDetails: list[PartitionDocument]


class StreamListEntry(TypedDict):
    name: str
    streamId: StreamId


class StreamList(TypedDict):
    streams: list[StreamListEntry]
    nextAfter: str | None

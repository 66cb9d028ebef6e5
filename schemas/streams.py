"""Request shapes for stream administration (seed 003)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from schemas.stream_names import StreamName


def _not_bool(value: object) -> object:
    # pydantic's lax mode reads `false` as 0 for an int field; a config value is a number, never a boolean.
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


Integer = Annotated[int, BeforeValidator(_not_bool)]
CompressionType = Literal["uncompressed", "producer", "gzip", "snappy", "lz4", "zstd"]
CleanupPolicy = Literal["delete", "compact", "compact,delete", "delete,compact"]

# API field -> Kafka topic config.
CONFIG_NAMES: dict[str, str] = {
    "retentionMs": "retention.ms",
    "compressionType": "compression.type",
    "maxMessageBytes": "max.message.bytes",
    "cleanupPolicy": "cleanup.policy",
    "retentionBytes": "retention.bytes",
    "minInsyncReplicas": "min.insync.replicas",
}
NUMERIC_CONFIGS = {"retentionMs", "maxMessageBytes", "retentionBytes", "minInsyncReplicas"}


class StreamConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    retentionMs: Integer | None = Field(default=None, ge=-1, description="-1 keeps events forever")
    compressionType: CompressionType | None = None
    maxMessageBytes: Integer | None = Field(default=None, ge=1, le=2**31 - 1)
    cleanupPolicy: CleanupPolicy | None = None
    retentionBytes: Integer | None = Field(default=None, ge=-1)
    minInsyncReplicas: Integer | None = Field(default=None, ge=1)

    def to_kafka(self) -> dict[str, str]:
        return {CONFIG_NAMES[k]: str(v) for k, v in self.model_dump(exclude_none=True).items()}


class StreamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StreamName
    partitions: Integer = Field(default=3, ge=1, le=10_000)
    replicationFactor: Integer = Field(default=1, ge=1, le=32_767)
    config: StreamConfig = StreamConfig()


class StreamPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    partitions: Integer | None = Field(default=None, ge=1, le=10_000)
    config: StreamConfig = StreamConfig()


def config_from_kafka(configs: dict[str, str]) -> dict[str, int | str]:
    """The API view of a topic's effective configs."""
    view: dict[str, int | str] = {}
    for field_name, kafka_name in CONFIG_NAMES.items():
        if kafka_name in configs:
            raw = configs[kafka_name]
            view[field_name] = int(raw) if field_name in NUMERIC_CONFIGS else raw
    return view

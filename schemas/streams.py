"""Request shapes for stream administration (seed 003)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.stream_names import StreamName


def _no_booleans(data: Any, fields: tuple[str, ...]) -> Any:
    # pydantic's lax mode reads `false` as 0 for an int field; these numbers are never booleans.
    if isinstance(data, dict):
        for name in fields:
            if isinstance(data.get(name), bool):
                raise ValueError(f"{name} must be an integer, not a boolean")
    return data


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
MAX_LONG = 2**63 - 1  # Kafka's `long` configs (retention.ms, retention.bytes)
MAX_REPLICATION_FACTOR = 32_767  # Kafka's replication factor is an int16


class StreamConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    retentionMs: int | None = Field(default=None, ge=-1, le=MAX_LONG, description="-1 keeps events forever")
    compressionType: CompressionType | None = None
    maxMessageBytes: int | None = Field(default=None, ge=1, le=2**31 - 1)
    cleanupPolicy: CleanupPolicy | None = None
    retentionBytes: int | None = Field(default=None, ge=-1, le=MAX_LONG)
    # At most the replication factor (checked where both are known), hence at most its own bound.
    minInsyncReplicas: int | None = Field(default=None, ge=1, le=MAX_REPLICATION_FACTOR)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans(cls, data: Any) -> Any:
        return _no_booleans(data, tuple(NUMERIC_CONFIGS))

    def to_kafka(self) -> dict[str, str]:
        return {CONFIG_NAMES[k]: str(v) for k, v in self.model_dump(exclude_none=True).items()}


class StreamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StreamName
    partitions: int = Field(default=3, ge=1, le=10_000)
    replicationFactor: int = Field(default=1, ge=1, le=MAX_REPLICATION_FACTOR)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans(cls, data: Any) -> Any:
        return _no_booleans(data, ("partitions", "replicationFactor"))

    config: StreamConfig = StreamConfig()


class StreamPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    partitions: int | None = Field(default=None, ge=1, le=10_000)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans(cls, data: Any) -> Any:
        return _no_booleans(data, ("partitions",))

    config: StreamConfig = StreamConfig()


def config_from_kafka(configs: dict[str, str]) -> dict[str, int | str]:
    """The API view of a topic's effective configs."""
    view: dict[str, int | str] = {}
    for field_name, kafka_name in CONFIG_NAMES.items():
        if kafka_name in configs:
            raw = configs[kafka_name]
            view[field_name] = int(raw) if field_name in NUMERIC_CONFIGS else raw
    return view

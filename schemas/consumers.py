"""Request shapes for offset commits and consumer-group resets (seed 003 plus operator extensions)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from schemas.events import Timestamp
from schemas.stream_names import StreamName


class OffsetIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stream: StreamName = Field(min_length=1)
    partition: int = Field(ge=0, le=2**31 - 1)  # Kafka's partitions and offsets are int32 and int64
    offset: int = Field(ge=0, le=2**63 - 1, description="the next offset to read: last processed + 1, as in Kafka")


class CommitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    offsets: list[OffsetIn] = Field(min_length=1, max_length=10_000)


# `_anchor_given` as JSON Schema, so the document states it too.
_ANCHORS: JsonDict = {
    "allOf": [
        {
            "if": {"properties": {"to": {"const": to}}, "required": ["to"]},
            "then": {"required": [to], "properties": {to: {"not": {"type": "null"}}}},
        }
        for to in ("timestamp", "offset")
    ]
}


class ResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_ANCHORS)

    stream: StreamName = Field(min_length=1)
    to: Literal["earliest", "latest", "timestamp", "offset"]
    timestamp: Timestamp | None = None
    offset: int | None = Field(default=None, ge=0, le=2**63 - 1)

    @model_validator(mode="after")
    def _anchor_given(self) -> ResetRequest:
        if self.to == "timestamp" and self.timestamp is None:
            raise ValueError("to=timestamp needs a timestamp (epoch ms or ISO 8601)")
        if self.to == "offset" and self.offset is None:
            raise ValueError("to=offset needs an offset")
        return self

"""Queryable processor state: the records workers publish to the compacted state topic and gateways tail.

    <processorId>|k|<json group key>  KeyState         the key's windows (open ones, and closed ones for a while)
    <processorId>|a|<partition>       AggregateProgress per aggregate partition: stream time, source offsets applied
    <processorId>|s|<partition>       SourceProgress    per source partition: the last offset stage 1 handled, and
                                                        the last source offset it forwarded to each aggregate partition

All of a processor's records go to the topic's one partition, key records before the progress records that
cover them, so a gateway that has read a progress record has read every key change it covers.

When has a processor processed source position (p, o) for key K, whose aggregate partition is a?
Stage 1 handled it (`handled[p] >= o`), and, when events reach the aggregate through a repartition topic, the
aggregate applied everything stage 1 forwarded to a from p up to o: `applied[a][p] >= min(o, forwarded[p][a])`
(events from one source partition reach one aggregate partition in order). `covers` decides it.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

STATE_TOPIC = "_kafkagate.processor-state"
#: Closed windows stay in a key's state this long (stream time after they closed), then drop out.
CLOSED_KEPT_MS = 3_600_000


def key_record(processor_id: str, group_key: Any) -> str:
    return f"{processor_id}|k|{orjson.dumps(group_key).decode()}"


def aggregate_record(processor_id: str, partition: int) -> str:
    return f"{processor_id}|a|{partition}"


def source_record(processor_id: str, partition: int) -> str:
    return f"{processor_id}|s|{partition}"


class WindowState(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    start: int | None = Field(description="window start (ms); null for an unwindowed aggregate")
    end: int | None
    closes_at: int | None = Field(alias="closesAt", description="stream time after which the window is closed")
    value: dict[str, Any] = Field(description="the aggregate's result for the window, as the sink would get it")


class KeyState(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    partition: int
    key: Any
    windows: list[WindowState]


class AggregateProgress(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    partition: int
    stream_time: int | None = Field(alias="streamTime")
    applied: dict[int, int] = Field(description="source partition -> last source offset applied here")
    published_at_ms: int = Field(alias="publishedAtMs")


class SourceProgress(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    partition: int
    handled: int
    forwarded: dict[int, int] = Field(default_factory=dict, description="aggregate partition -> last source offset")
    published_at_ms: int = Field(alias="publishedAtMs")


Published = KeyState | AggregateProgress | SourceProgress


def decode_published(value: bytes) -> Published:
    try:
        document = orjson.loads(value)
        if isinstance(document, dict) and "windows" in document:
            return KeyState.model_validate(document)
        if isinstance(document, dict) and "handled" in document:
            return SourceProgress.model_validate(document)
        return AggregateProgress.model_validate(document)
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise ValueError(str(exc)) from exc


def covers(
    positions: dict[int, int],
    aggregate_partition: int,
    *,
    repartitioned: bool,
    sources: dict[int, SourceProgress],
    progress: AggregateProgress | None,
) -> bool:
    """Whether the published progress shows every source position in `positions` processed for keys of
    `aggregate_partition` (see the module docstring)."""
    for partition, offset in positions.items():
        source = sources.get(partition)
        if source is None or source.handled < offset:
            return False
        if not repartitioned:
            continue  # stage 1 aggregates in the same handler
        forwarded = source.forwarded.get(aggregate_partition)
        if forwarded is None:
            continue  # nothing from this source partition was ever sent to this aggregate partition
        applied = -1 if progress is None else progress.applied.get(partition, -1)
        if applied < min(offset, forwarded):
            return False
    return True

"""Stream name rules: Kafka's topic rules, minus the `_`-prefixed names kafkagate keeps for internal topics."""

from __future__ import annotations

import re

from gateway.errors import InvalidGroupName, InvalidStreamName
from schemas.stream_names import CHARACTERS, GROUP_PATTERN, MAX_LENGTH, STREAM_PATTERN

__all__ = [
    "GROUP_PATTERN",
    "MAX_LENGTH",
    "STREAM_PATTERN",
    "is_internal",
    "validate_group_name",
    "validate_stream_name",
]

_LEGAL = re.compile(f"[{CHARACTERS}]+")


def is_internal(topic: str) -> bool:
    """Internal topics (Kafka's `__consumer_offsets`, kafkagate's own) start with an underscore."""
    return topic.startswith("_")


def validate_stream_name(name: str) -> str:
    """Return `name` when it is a legal user stream name, else raise InvalidStreamName saying why."""
    if not name:
        raise InvalidStreamName("stream name must not be empty")
    if len(name) > MAX_LENGTH:
        raise InvalidStreamName(f"stream name is {len(name)} characters; the limit is {MAX_LENGTH}")
    if name in {".", ".."}:
        raise InvalidStreamName(f"stream name {name!r} is not allowed")
    if not _LEGAL.fullmatch(name):
        raise InvalidStreamName(
            f"stream name {name!r} has characters outside [A-Za-z0-9._-]",
        )
    if is_internal(name):
        raise InvalidStreamName(f"stream name {name!r} is reserved: names starting with '_' are internal topics")
    return name


def validate_group_name(name: str) -> str:
    """Consumer group ids follow the stream name rules (they appear in URLs), without the `_` reservation."""
    if not name or len(name) > MAX_LENGTH or not _LEGAL.fullmatch(name):
        raise InvalidGroupName(f"consumer group {name!r} must be 1-{MAX_LENGTH} characters of [A-Za-z0-9._-]")
    return name

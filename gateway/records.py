"""Rendering Kafka records as JSON events for consumers.

Values that are valid JSON are embedded as they are stored (an `orjson.Fragment`, so they are parsed once to
check them and never re-serialized). Anything else is returned as base64 with `valueEncoding: "base64"`, so a
poison record never fails a poll.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from gateway import event_ids
from gateway.timefmt import iso_ms

# Fixed JSON overhead of one rendered event besides key, value and headers; used for the response byte cap.
EVENT_OVERHEAD_BYTES = 160


class KafkaRecord(Protocol):
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


def _text_or_base64(raw: bytes) -> tuple[str, bool]:
    try:
        return raw.decode(), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode(), True


def render(record: KafkaRecord) -> tuple[dict[str, Any], int]:
    """The event document for `record` and its approximate size in bytes once serialized."""
    size = EVENT_OVERHEAD_BYTES
    event: dict[str, Any] = {
        "eventId": event_ids.encode(record.partition, record.offset),
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": iso_ms(record.timestamp),
        "key": None,
        "value": None,
    }
    if record.key is not None:
        event["key"], binary = _text_or_base64(record.key)
        size += len(event["key"])
        if binary:
            event["keyEncoding"] = "base64"
    if record.value is not None:
        try:
            orjson.loads(record.value)
        except orjson.JSONDecodeError:
            event["value"] = base64.b64encode(record.value).decode()
            event["valueEncoding"] = "base64"
            size += len(event["value"])
        else:
            event["value"] = orjson.Fragment(record.value)
            size += len(record.value)
    headers: dict[str, str] = {}
    binary_headers: list[str] = []
    for name, raw in record.headers:
        headers[name], binary = _text_or_base64(raw)
        size += len(name) + len(headers[name]) + 6
        if binary:
            binary_headers.append(name)
    event["headers"] = headers
    if binary_headers:
        event["base64Headers"] = binary_headers
    return event, size

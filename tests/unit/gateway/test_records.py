from __future__ import annotations

import base64
from dataclasses import dataclass, field

import orjson

from gateway.records import render


@dataclass
class Record:
    partition: int = 2
    offset: int = 41
    timestamp: int = 1736937000123
    key: bytes | None = b"user-1"
    value: bytes | None = b'{"a":1}'
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def test_json_values_are_embedded_as_stored() -> None:
    event, size = render(Record(value=b'{"a": [1, 2.5, "x"]}', headers=[("source", b"web")]))
    assert orjson.loads(orjson.dumps(event)) == {
        "eventId": "evt_2_41",
        "partition": 2,
        "offset": 41,
        "timestamp": "2025-01-15T10:30:00.123Z",
        "key": "user-1",
        "value": {"a": [1, 2.5, "x"]},
        "headers": {"source": "web"},
    }
    assert size >= len(orjson.dumps(event)) - 64


def test_poison_values_keys_and_headers_come_back_as_base64_with_markers() -> None:
    raw = b"\x00\xff not json"
    event, _ = render(Record(key=b"\xff\xfe", value=raw, headers=[("blob", b"\x80"), ("ok", b"yes")]))
    assert event["valueEncoding"] == "base64"
    assert base64.b64decode(event["value"]) == raw
    assert event["keyEncoding"] == "base64"
    assert base64.b64decode(event["key"]) == b"\xff\xfe"
    assert event["base64Headers"] == ["blob"]
    assert event["headers"]["ok"] == "yes"


def test_tombstones_and_missing_keys_are_null() -> None:
    event, _ = render(Record(key=None, value=None))
    assert event["key"] is None
    assert event["value"] is None
    assert "valueEncoding" not in event

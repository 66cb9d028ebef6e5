from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from gateway.records import is_json, render


@dataclass
class Record:
    partition: int = 2
    offset: int = 41
    timestamp: int = 1736937000123
    key: bytes | None = b"user-1"
    value: bytes | None = b'{"a":1}'
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def document(record: Record) -> Any:
    return orjson.loads(render(record).body)


def test_json_values_are_embedded_as_stored() -> None:
    rendered = render(Record(value=b'{"a": [1, 2.5, "x"]}', headers=[("source", b"web")]))
    assert orjson.loads(rendered.body) == {
        "eventId": "evt_2_41",
        "partition": 2,
        "offset": 41,
        "timestamp": "2025-01-15T10:30:00.123Z",
        "key": "user-1",
        "value": {"a": [1, 2.5, "x"]},
        "headers": {"source": "web"},
    }
    assert b'"value":{"a": [1, 2.5, "x"]}' in rendered.body  # the stored bytes, not a re-encoding
    assert (rendered.partition, rendered.offset, rendered.event_id) == (2, 41, "evt_2_41")


def test_a_poll_joins_the_rendered_bytes_into_one_document() -> None:
    events = [render(Record(offset=o, timestamp=1736937000000 + o)).fragment for o in (7, 8)]
    body = orjson.loads(orjson.dumps({"events": events}))
    assert [e["eventId"] for e in body["events"]] == ["evt_2_7", "evt_2_8"]
    assert [e["timestamp"] for e in body["events"]] == ["2025-01-15T10:30:00.007Z", "2025-01-15T10:30:00.008Z"]


def test_poison_values_keys_and_headers_come_back_as_base64_with_markers() -> None:
    raw = b"\x00\xff not json"
    event = document(Record(key=b"\xff\xfe", value=raw, headers=[("blob", b"\x80"), ("ok", b"yes")]))
    assert event["valueEncoding"] == "base64"
    assert base64.b64decode(event["value"]) == raw
    assert event["keyEncoding"] == "base64"
    assert base64.b64decode(event["key"]) == b"\xff\xfe"
    assert event["base64Headers"] == ["blob"]
    assert base64.b64decode(event["headers"]["blob"]) == b"\x80"
    assert event["headers"]["ok"] == "yes"


def test_keys_and_headers_are_escaped_as_json_strings() -> None:
    event = document(Record(key=b'a"b\\c\n\xc3\xa9', headers=[('x"y', b'say "hi"\t')]))
    assert event["key"] == 'a"b\\c\né'
    assert event["headers"] == {'x"y': 'say "hi"\t'}
    assert "keyEncoding" not in event
    assert "base64Headers" not in event


def test_tombstones_and_missing_keys_are_null() -> None:
    event = document(Record(key=None, value=None))
    assert event["key"] is None
    assert event["value"] is None
    assert event["headers"] == {}
    assert "valueEncoding" not in event


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (b'{"a":1}', True),
        (b" [1, 2] ", True),
        (b'"\xc3\xa9"', True),
        (b"123456789012345678901234567890", True),
        (b"null", True),
        (b'"\xff"', False),  # not UTF-8: a response embedding it would not be JSON
        (b"{", False),
        (b"1 2", False),
        (b"NaN", False),
        (b"", False),
        (b"{'a': 1}", False),
    ],
)
def test_is_json_accepts_one_utf8_json_document_only(value: bytes, valid: bool) -> None:
    assert is_json(value) is valid


def test_every_rendered_document_is_json_whatever_the_bytes() -> None:
    for value in (b'"\xff"', b"\x00", b"{", b'{"k": "\xe2\x82"}', b"[1,]", b'{"a":1}'):
        event = document(Record(value=value))
        assert ("valueEncoding" in event) is (value != b'{"a":1}')

"""Rendering Kafka records as JSON events for consumers, as pre-encoded bytes.

Each event is written straight to the bytes of its JSON document: a poll of 1,000 events never builds a dict per
event, and the response joins the pieces (`orjson.Fragment`). Values that are valid JSON are embedded as they are
stored, never parsed into Python objects: msgspec checks their syntax in C (`msgspec.Raw` builds nothing) and a
UTF-8 check covers what it skips. Anything else is returned as base64 with `valueEncoding: "base64"` (keys and
headers alike), so a poison record never fails a poll.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import NamedTuple, Protocol

import msgspec
import orjson

from gateway import event_ids
from gateway.timefmt import iso_ms

_dumps = orjson.dumps
_check_syntax = msgspec.json.Decoder(msgspec.Raw).decode
_b64 = base64.b64encode


class KafkaRecord(Protocol):
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


class Rendered(NamedTuple):
    """One event's JSON document (`body`) and where it came from."""

    partition: int
    offset: int
    body: bytes

    @property
    def event_id(self) -> str:
        return event_ids.encode(self.partition, self.offset)

    @property
    def size(self) -> int:
        """Its bytes in a response's list of events, the comma after it included."""
        return len(self.body) + 1

    @property
    def fragment(self) -> orjson.Fragment:
        return orjson.Fragment(self.body)


def _text(raw: bytes, name: bytes) -> bytes:
    """`"name":<raw as a JSON string>`, with `,"<name>Encoding":"base64"` after it when `raw` is not UTF-8."""
    try:
        return b'"%b":%b' % (name, _dumps(raw.decode()))
    except UnicodeDecodeError:
        return b'"%b":"%b","%bEncoding":"base64"' % (name, _b64(raw), name)


def _headers(headers: Sequence[tuple[str, bytes]]) -> bytes:
    texts: dict[str, str] = {}
    binary: list[str] = []
    for name, raw in headers:
        try:
            texts[name] = raw.decode()
        except UnicodeDecodeError:
            texts[name] = _b64(raw).decode()
            binary.append(name)
    if binary:
        return b',"headers":%b,"base64Headers":%b' % (_dumps(texts), _dumps(binary))
    return b',"headers":%b' % _dumps(texts)


def is_json(value: bytes) -> bool:
    """Whether `value` is one JSON document in UTF-8 (RFC 8259)."""
    try:
        _check_syntax(value)
        if not value.isascii():
            value.decode()
    except (msgspec.DecodeError, UnicodeDecodeError):
        return False
    return True


def render(record: KafkaRecord) -> Rendered:
    """The event document for `record`. Its size on the wire is `len(rendered.body)`."""
    partition, offset = record.partition, record.offset
    key, value = record.key, record.value
    if value is None:
        value_part = b',"value":null'
    elif is_json(value):
        value_part = b',"value":' + value
    else:
        value_part = b',"value":"%b","valueEncoding":"base64"' % _b64(value)
    body = b'{"eventId":"%b","partition":%d,"offset":%d,"timestamp":"%b",%b%b%b}' % (
        event_ids.encode(partition, offset).encode(),
        partition,
        offset,
        iso_ms(record.timestamp).encode(),
        b'"key":null' if key is None else _text(key, b"key"),
        value_part,
        _headers(record.headers) if record.headers else b',"headers":{}',
    )
    return Rendered(partition, offset, body)

"""Kafka records in and out of a processor: decoding what Faust delivers, encoding what the runtime writes."""

from __future__ import annotations

from typing import Any

import orjson

from processors.events import Event

KafkaEvent = Any  # faust's EventT: key, value and .message (topic, partition, offset, timestamp s, headers)


def headers_of(message: Any) -> list[tuple[str, bytes]]:
    headers = message.headers or []
    return list(headers.items()) if isinstance(headers, dict) else list(headers)


def decode_bytes(raw: bytes | None) -> Any:
    if raw is None:
        return None
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.hex()


def encode_event(event: Event) -> tuple[bytes | None, bytes]:
    """An output record's key and value: a string key as is, any other key as JSON; the value as JSON."""
    if event.key is None:
        key = None
    else:
        key = (event.key if isinstance(event.key, str) else orjson.dumps(event.key).decode()).encode()
    return key, orjson.dumps(event.value)


def write_error(future: Any) -> BaseException | None:
    """The error a finished write failed with; None while it is pending, or when it succeeded."""
    if not future.done() or future.cancelled():
        return None
    error: BaseException | None = future.exception()
    return error
